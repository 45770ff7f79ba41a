"""The one run-time schema check, shared by the local runner and the cloud entry points.

Before a task runs, each input's real schema (``collect_schema()`` on its scan: parquet and
IPC read only their footers) is checked against the input's declaration; before an output
is published, the result's schema (its resolved plan: no data) is checked against the
output's declaration. ``freeze`` is exact; ``evolve`` lets new columns through and returns
them, so run history can record them. A mismatch is an ExecutionError naming the task, the
dataset and the column, raised before anything is written.

CSV and NDJSON files carry no dtypes: their scans take the declared dtypes (``scan_options``),
so the check compares their column names and a value that does not parse as declared fails
the read naming the column.

Imports only polars, the standard library and glacier's pure modules (the Lambda/Glue runtime);
the schema comparison (``glacier.dag.schema``, which holds the pydantic ``DatasetSchema``) is
imported when a dataset has a declaration, so a run without one never imports pydantic.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl

from glacier.errors import ExecutionError
from glacier.formats import Format

if TYPE_CHECKING:
    from glacier.dag.schema import DatasetSchema, SchemaComparison, SchemaDifference

TEXT_FORMATS = frozenset({Format.CSV, Format.NDJSON})


@dataclass(frozen=True)
class SchemaCheck:
    """A passed check: the dataset and the columns an 'evolve' declaration let through."""

    dataset: str
    added: tuple[str, ...] = ()


def scan_options(fmt: Format, declared: DatasetSchema | None) -> dict[str, Any]:
    """Extra keyword arguments for the ``scan_*`` of a dataset: text formats read the declared
    columns with the declared dtypes (others infer nothing: their files store dtypes)."""
    if declared is None or fmt not in TEXT_FORMATS:
        return {}
    from glacier.dag.schema import to_polars

    return {"schema_overrides": {name: to_polars(dtype) for name, dtype in declared.columns.items()}}


def check_input(
    task: str, param: str, dataset: str, frame: pl.LazyFrame, declared: DatasetSchema | None
) -> SchemaCheck:
    """Check a task's input scan against its declaration before the task runs."""
    if declared is None:
        return SchemaCheck(dataset)
    from glacier.dag.schema import describe_differences

    comparison = _compare(task, dataset, frame, declared, reading=True)
    if not comparison.ok:
        raise ExecutionError(
            f"Task '{task}' cannot run: input '{param}' ('{dataset}') does not match its declared "
            f"schema: {describe_differences(comparison.differences)}. Nothing was written.",
            task=task,
            fix=_input_fix(dataset, comparison.differences),
        )
    return SchemaCheck(dataset, comparison.added)


def check_output(task: str, dataset: str, frame: pl.LazyFrame, declared: DatasetSchema | None) -> SchemaCheck:
    """Check a task's result against its output's declaration before it is written."""
    if declared is None:
        return SchemaCheck(dataset)
    from glacier.dag.schema import describe_differences, difference_fix

    comparison = _compare(task, dataset, frame, declared, reading=False)
    if not comparison.ok:
        raise ExecutionError(
            f"Task '{task}' produced a result that does not match the declared schema of "
            f"'{dataset}': {describe_differences(comparison.differences)}. Nothing was written.",
            task=task,
            fix=difference_fix(comparison.differences, producer=task),
        )
    return SchemaCheck(dataset, comparison.added)


def frame_schema(frame: pl.LazyFrame) -> dict[str, str]:
    """column -> dtype name, as the DAG stores schemas."""
    return {name: str(dtype) for name, dtype in frame.collect_schema().items()}


def _compare(
    task: str, dataset: str, frame: pl.LazyFrame, declared: DatasetSchema, *, reading: bool
) -> SchemaComparison:
    from glacier.dag.schema import SchemaComparison, SchemaDifference, compare_schemas

    try:
        actual = frame_schema(frame)
    except pl.exceptions.SchemaFieldNotFoundError as exc:
        # An NDJSON scan told to read a declared column the file does not have.
        column = _first_line(exc).strip("\"'")
        missing = SchemaDifference("missing", column, declared.columns.get(column), None)
        return SchemaComparison((missing,), ())
    except (pl.exceptions.PolarsError, OSError) as exc:
        what = (
            f"read the schema of '{dataset}'" if reading else f"resolve the result's schema for '{dataset}'"
        )
        raise ExecutionError(
            f"Task '{task}' cannot {what}: {type(exc).__name__}: {_first_line(exc)}",
            task=task,
            fix=f"check that '{dataset}' exists and is readable (run the task that writes it first)."
            if reading
            else f"fix the query task '{task}' returns.",
        ) from exc
    return compare_schemas(declared.columns, actual, declared.mode)


def _input_fix(dataset: str, differences: tuple[SchemaDifference, ...]) -> str:
    from glacier.dag.schema import python_dtype

    changes = []
    for d in differences:
        if d.kind == "dtype":
            changes.append(f"{d.column!r}: {python_dtype(str(d.actual))}")
        elif d.kind == "missing":
            changes.append(f"no {d.column!r}")
        else:
            changes.append(f"{d.column!r}: {python_dtype(str(d.actual))} added (or schema_mode='evolve')")
    return (
        f"write '{dataset}' with the declared columns, or change its declaration to what it holds "
        f"({', '.join(changes)})."
    )


def _first_line(exc: BaseException) -> str:
    return " ".join(str(exc).split("\n\n", 1)[0].split())
