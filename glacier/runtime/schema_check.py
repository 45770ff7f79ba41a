"""The one run-time schema check, shared by the local runner and the cloud entry points.

Before a task runs, each input's real schema (``collect_schema()`` on its scan: parquet and
IPC read only their footers) is checked against the input's declaration; before an output
is published, the result's schema (its resolved plan: no data) is checked against the
output's declaration. ``freeze`` is exact; ``evolve`` lets new columns through and returns
them, so run history can record them. A mismatch is an ExecutionError naming the task, the
dataset and the column, raised before anything is written.

CSV and NDJSON files carry no dtypes: their scans read the declared columns as declared
(``scan_dtypes``, which the dataset classes pass to ``scan_csv``/``scan_ndjson`` as
``schema_overrides``), so the check compares their column names, parses their first rows,
and ``unreadable`` turns a value further down that does not parse (found while the task's
result is computed) into an error naming the input and the column.

Imports only polars, the standard library and glacier's pure modules (the Lambda/Glue runtime);
the schema comparison (``glacier.dag.schema``, which holds the pydantic ``DatasetSchema``) is
imported when a dataset has a declaration, so a run without one never imports pydantic.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import polars as pl

from glacier.errors import ExecutionError
from glacier.formats import TEXT_FORMATS, Format

if TYPE_CHECKING:
    from glacier.dag.schema import DatasetSchema, SchemaComparison, SchemaDifference

SAMPLE_ROWS = 1000
# How Polars says a CSV / NDJSON value does not parse as the dtype it was asked for.
_CSV_PARSE = re.compile(
    r"could not parse `(?P<value>.*?)` as dtype `(?P<dtype>[^`]+)` at column '(?P<column>[^']+)'"
)
_NDJSON_PARSE = re.compile(r"cannot parse '(?P<value>.*?)' \((?P<kind>\w+)\) as (?P<dtype>\S+)")


@dataclass(frozen=True)
class SchemaCheck:
    """A passed check: the dataset and the columns an 'evolve' declaration let through
    (``added``; ``dtypes``: each one's dtype name), which run history records."""

    dataset: str
    added: tuple[str, ...] = ()
    dtypes: tuple[tuple[str, str], ...] = ()

    @property
    def added_columns(self) -> dict[str, str]:
        return dict(self.dtypes)


def scan_dtypes(fmt: Format, declared: DatasetSchema | None) -> dict[str, pl.DataType]:
    """The dtypes a scan of the dataset reads its declared columns as: text formats store
    none, so their declared columns are parsed as declared (other formats store theirs)."""
    if declared is None or fmt not in TEXT_FORMATS:
        return {}
    from glacier.dag.schema import to_polars

    return {name: to_polars(dtype) for name, dtype in declared.columns.items()}


def check_input(
    task: str,
    param: str,
    dataset: str,
    frame: pl.LazyFrame,
    declared: DatasetSchema | None,
    fmt: Format = Format.PARQUET,
) -> SchemaCheck:
    """Check a task's input scan against its declaration before the task runs (a text
    format's first ``SAMPLE_ROWS`` rows are parsed too: its dtypes are in its values)."""
    if declared is None:
        return SchemaCheck(dataset)
    from glacier.dag.schema import describe_differences

    comparison, actual = _compare(task, dataset, frame, declared, reading=True)
    if not comparison.ok:
        raise ExecutionError(
            f"Task '{task}' cannot run: input '{param}' ('{dataset}') does not match its declared "
            f"schema: {describe_differences(comparison.differences)}. Nothing was written.",
            task=task,
            fix=_input_fix(dataset, comparison.differences),
        )
    if fmt in TEXT_FORMATS:
        # A text file's dtypes are its values: parse its first rows now, so a value that is
        # not what is declared is found before the task runs (later rows: ``unreadable``).
        try:
            frame.head(SAMPLE_ROWS).collect()
        except (pl.exceptions.PolarsError, OSError) as exc:
            error = unreadable(task, {param: (dataset, fmt, declared)}, exc)
            raise error or ExecutionError(
                f"Task '{task}' cannot read input '{param}' ('{dataset}'): {type(exc).__name__}: "
                f"{_first_line(exc)}",
                task=task,
                fix=f"check that '{dataset}' is a valid {fmt.value} file.",
            ) from exc
    return _passed(dataset, comparison, actual)


def check_output(task: str, dataset: str, frame: pl.LazyFrame, declared: DatasetSchema | None) -> SchemaCheck:
    """Check a task's result against its output's declaration before it is written."""
    if declared is None:
        return SchemaCheck(dataset)
    from glacier.dag.schema import describe_differences, difference_fix

    comparison, actual = _compare(task, dataset, frame, declared, reading=False)
    if not comparison.ok:
        raise ExecutionError(
            f"Task '{task}' produced a result that does not match the declared schema of "
            f"'{dataset}': {describe_differences(comparison.differences)}. Nothing was written.",
            task=task,
            fix=difference_fix(comparison.differences, producer=task),
        )
    return _passed(dataset, comparison, actual)


def _passed(dataset: str, comparison: SchemaComparison, actual: Mapping[str, str]) -> SchemaCheck:
    return SchemaCheck(dataset, comparison.added, tuple((c, actual[c]) for c in comparison.added))


def unreadable(
    task: str, inputs: Mapping[str, tuple[str, Format, DatasetSchema | None]], exc: BaseException
) -> ExecutionError | None:
    """The error naming the input and column when ``exc`` is Polars failing to parse a value
    of a declared CSV / NDJSON input (``inputs``: param -> (dataset, format, declaration));
    None when it is not that. Raised while reading, before anything is published."""
    text = str(exc)
    match = _CSV_PARSE.search(text) or _NDJSON_PARSE.search(text)
    if match is None:
        return None
    candidates = [
        (param, dataset, declared)
        for param, (dataset, fmt, declared) in inputs.items()
        if fmt in TEXT_FORMATS and declared is not None
    ]
    column = match.groupdict().get("column")
    if column is not None:
        candidates = [c for c in candidates if column in c[2].columns] or candidates
    if not candidates:
        return None
    param, dataset, declared = candidates[0]
    if len(candidates) > 1:
        param = " or ".join(f"'{c[0]}'" for c in candidates)
        dataset = " / ".join(c[1] for c in candidates)
    else:
        param = f"'{param}'"
    declared_dtype = declared.columns.get(column or "", match.group("dtype"))
    where = f"column '{column}'" if column else "a column"
    return ExecutionError(
        f"Task '{task}' cannot read input {param} ('{dataset}') as declared: {where} holds "
        f"'{match.group('value')}', which is not {declared_dtype}. Nothing was written.",
        task=task,
        fix=f"correct that value in '{dataset}', or declare {where} as pl.String and convert it in '{task}'.",
    )


def frame_schema(frame: pl.LazyFrame) -> dict[str, str]:
    """column -> dtype name, as the DAG stores schemas."""
    return {name: str(dtype) for name, dtype in frame.collect_schema().items()}


def _compare(
    task: str, dataset: str, frame: pl.LazyFrame, declared: DatasetSchema, *, reading: bool
) -> tuple[SchemaComparison, dict[str, str]]:
    from glacier.dag.schema import SchemaComparison, SchemaDifference, compare_schemas

    try:
        actual = frame_schema(frame)
    except pl.exceptions.SchemaFieldNotFoundError as exc:
        # An NDJSON scan told to read a declared column the file does not have.
        column = _first_line(exc).strip("\"'")
        missing = SchemaDifference("missing", column, declared.columns.get(column), None)
        return SchemaComparison((missing,), ()), {}
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
    return compare_schemas(declared.columns, actual, declared.mode), actual


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
