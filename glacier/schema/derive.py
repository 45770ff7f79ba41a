"""Derive every dataset's schema before anything runs, and find where tasks and schemas disagree.

Each Polars task is called on empty LazyFrames of its inputs' schemas and its result's schema
is taken with ``collect_schema()``: Polars resolves the plan (column names, dtypes) without
any data, so a misspelled column or a dtype a task cannot handle shows up here, not on real
data. Tasks are visited once, in the DAG's topological order: linear in the number of tasks.

What cannot be derived is a note, never an error: a source without a declaration, a pyspark
task without a declared output, a task that fails on an empty frame for a reason unrelated
to schemas (``.item()`` on an empty frame, reading a file of its own ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from glacier.code import import_code_ref
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import TaskNode
from glacier.dag.schema import (
    DatasetSchema,
    SchemaContractError,
    closest_column,
    compare_schemas,
    describe_columns,
    describe_differences,
    difference_fix,
    to_polars,
)
from glacier.errors import GlacierError

# Polars raises these when a plan does not fit its input schemas; anything else raised on
# empty frames says nothing about the schema.
SCHEMA_ERRORS: tuple[type[Exception], ...] = (
    pl.exceptions.ColumnNotFoundError,
    pl.exceptions.SchemaError,
    pl.exceptions.SchemaFieldNotFoundError,
    pl.exceptions.StructFieldNotFoundError,
    pl.exceptions.DuplicateError,
    pl.exceptions.InvalidOperationError,
)
_MISSING_COLUMN = re.compile(
    r'unable to find column "(?P<column>[^"]+)"(?:; valid columns: \[(?P<valid>[^\]]*)\])?'
    r'|^"(?P<bare>[^"]+)" not found'
)


@dataclass(frozen=True)
class SchemaNote:
    """Why a dataset's schema is unknown (or taken from a declaration) — not an error."""

    dataset: str
    message: str
    task: str | None = None


@dataclass(frozen=True)
class KnownSchema:
    """A schema and where it came from, for messages: 'declared', "from task 'clean'", ..."""

    schema: DatasetSchema
    origin: str


@dataclass
class DerivedSchemas:
    """The outcome for one pipeline (or several): every dataset whose schema is known,
    the problems found (each a ready-to-raise SchemaContractError) and the notes."""

    pipeline: str
    schemas: dict[str, DatasetSchema] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    problems: list[SchemaContractError] = field(default_factory=list)
    notes: list[SchemaNote] = field(default_factory=list)

    def known(self, dataset_id: str) -> KnownSchema | None:
        schema = self.schemas.get(dataset_id)
        return None if schema is None else KnownSchema(schema, self.origins[dataset_id])

    def raise_first(self) -> None:
        """Raise the first problem (validation reports one clear message at a time)."""
        if self.problems:
            raise self.problems[0]


def derive_schemas(
    compiled: CompiledPipeline,
    declared: Mapping[str, DatasetSchema] | None = None,
    *,
    upstream: Mapping[str, KnownSchema] | None = None,
) -> DerivedSchemas:
    """The schema of every dataset of ``compiled`` that can be known, declared or derived.

    ``declared``: dataset id -> its declaration. ``upstream``: schemas other pipelines give
    datasets this one reads (see ``derive_pipelines``)."""
    dag = compiled.dag
    declared = declared or {}
    result = DerivedSchemas(pipeline=dag.name)
    for dataset in dag.source_datasets():
        if dataset.id in declared:
            _record(result, dataset.id, declared[dataset.id], "declared")
        elif upstream and dataset.id in upstream:
            _record(result, dataset.id, upstream[dataset.id].schema, upstream[dataset.id].origin)
        else:
            result.notes.append(
                SchemaNote(
                    dataset.id,
                    f"Source '{dataset.id}' has no declared schema: tasks reading it are not checked "
                    "(declare it with schema={...}; `glacier schema infer PATH` prints one).",
                )
            )
    frames = _EmptyFrames(result)
    for task in dag.tasks:
        _derive_task(compiled, task, declared.get(task.output), frames, result)
    return result


def derive_pipelines(
    pipelines: Iterable[CompiledPipeline],
    declared: Mapping[str, Mapping[str, DatasetSchema]] | None = None,
) -> list[DerivedSchemas]:
    """Derive several pipelines in order (producers first, as a module lists them): a dataset
    one pipeline writes seeds the pipelines that read it, and two pipelines giving one dataset
    different schemas is a problem of the later one."""
    declared = declared or {}
    seen: dict[str, KnownSchema] = {}
    results = []
    for compiled in pipelines:
        result = derive_schemas(compiled, declared.get(compiled.name), upstream=seen)
        for dataset_id, schema in result.schemas.items():
            earlier = seen.get(dataset_id)
            if earlier is None:
                seen[dataset_id] = KnownSchema(
                    schema, f"{result.origins[dataset_id]} in pipeline '{compiled.name}'"
                )
            elif earlier.schema.columns != schema.columns:
                result.problems.append(_disagreement(compiled.name, dataset_id, earlier, schema))
        results.append(result)
    return results


# -- one task -------------------------------------------------------------------------------
class _EmptyFrames:
    """Empty LazyFrames of known schemas. Building an empty frame costs far more than
    ``.lazy()`` on one, so one empty DataFrame is kept per distinct schema."""

    def __init__(self, result: DerivedSchemas) -> None:
        self._result = result
        self._templates: dict[tuple[tuple[str, str], ...], pl.DataFrame] = {}

    def frame(self, dataset_id: str) -> pl.LazyFrame:
        columns = self._result.schemas[dataset_id].columns
        key = tuple(columns.items())
        template = self._templates.get(key)
        if template is None:
            schema = pl.Schema({name: to_polars(dtype) for name, dtype in columns.items()})
            template = self._templates[key] = pl.DataFrame(schema=schema)
        return template.lazy()


def _derive_task(
    compiled: CompiledPipeline,
    task: TaskNode,
    output_declaration: DatasetSchema | None,
    frames: _EmptyFrames,
    result: DerivedSchemas,
) -> None:
    def keep_declaration(reason: str | None) -> None:
        if output_declaration is not None:
            _record(result, task.output, output_declaration, "declared")
        elif reason is not None:
            result.notes.append(SchemaNote(task.output, reason, task.name))

    if task.dataframe_api == "pyspark":
        keep_declaration(
            f"Task '{task.name}' is a pyspark task: the schema of '{task.output}' cannot be derived "
            "(declare it with schema={...} to check what reads it)."
        )
        return
    unknown = sorted(ds for ds in set(task.inputs.values()) if ds not in result.schemas)
    if unknown:
        keep_declaration(
            f"Task '{task.name}' is not checked: the schema of {', '.join(repr(u) for u in unknown)} "
            "is unknown."
        )
        return
    func = _function(compiled, task)
    if isinstance(func, str):
        keep_declaration(func)
        return
    produced = _call_on_empty(task, func, frames, result)
    if isinstance(produced, SchemaContractError):
        result.problems.append(produced)
        keep_declaration(None)
        return
    if isinstance(produced, str):
        keep_declaration(produced)
        return
    if output_declaration is None:
        _record(
            result, task.output, DatasetSchema(columns=produced, declared=False), f"from task '{task.name}'"
        )
        return
    comparison = compare_schemas(output_declaration.columns, produced, output_declaration.mode)
    if not comparison.ok:
        result.problems.append(
            SchemaContractError(
                f"Task '{task.name}' does not produce the declared schema of '{task.output}': "
                f"{describe_differences(comparison.differences)}. The task produces: "
                f"{describe_columns(produced)}.",
                fix=difference_fix(comparison.differences, producer=task.name),
            )
        )
    # Under 'evolve' the new columns are real: readers downstream see them too.
    columns = {**output_declaration.columns, **{c: produced[c] for c in comparison.added}}
    _record(result, task.output, output_declaration.model_copy(update={"columns": columns}), "declared")


def _function(compiled: CompiledPipeline, task: TaskNode) -> Callable[..., Any] | str:
    """The task's function, or why it cannot be had (a note)."""
    func = compiled.functions.get(task.name)
    if func is not None:
        return func
    try:
        return import_code_ref(task.code_ref, task.name)
    except GlacierError as exc:
        return f"Task '{task.name}' is not checked: {exc.problem}"


def _call_on_empty(
    task: TaskNode, func: Callable[..., Any], frames: _EmptyFrames, result: DerivedSchemas
) -> dict[str, str] | SchemaContractError | str:
    """The task's output schema on empty inputs; a SchemaContractError when the task does not
    fit its inputs' schemas; a note (str) when empty inputs say nothing."""
    inputs = {param: frames.frame(dataset_id) for param, dataset_id in task.inputs.items()}
    try:
        out = func(**inputs)
        if isinstance(out, pl.DataFrame):
            schema = out.schema
        elif isinstance(out, pl.LazyFrame):
            schema = out.collect_schema()
        else:
            return (
                f"Task '{task.name}' returned {type(out).__name__} on empty inputs, not a Polars "
                f"frame: the schema of '{task.output}' is unknown."
            )
    except SCHEMA_ERRORS as exc:
        return _misfit(task, exc, result)
    except Exception as exc:  # the user's code on empty frames: says nothing about schemas
        return (
            f"Task '{task.name}' cannot be checked on empty inputs ({type(exc).__name__}: "
            f"{_first_paragraph(exc)}): the schema of '{task.output}' is unknown."
        )
    return {name: str(dtype) for name, dtype in schema.items()}


# -- wording --------------------------------------------------------------------------------
def _misfit(task: TaskNode, exc: Exception, result: DerivedSchemas) -> SchemaContractError:
    inputs = {param: (ds, result.schemas[ds], result.origins[ds]) for param, ds in task.inputs.items()}
    provided = "; ".join(
        f"'{param}' ('{ds}', {origin}): {schema.describe()}" for param, (ds, schema, origin) in inputs.items()
    )
    missing = _MISSING_COLUMN.search(str(exc))
    if missing is None and isinstance(exc, pl.exceptions.StructFieldNotFoundError):
        column = _first_paragraph(exc).strip("\"'")
        return SchemaContractError(
            f"Task '{task.name}' uses struct field '{column}', which its input does not have. "
            f"Its inputs provide: {provided}.",
            fix=f"use a field the struct has, or add '{column}' upstream.",
        )
    if missing is None:
        return SchemaContractError(
            f"Task '{task.name}' does not fit its inputs' schemas: {_first_paragraph(exc)}. "
            f"Its inputs provide: {provided}.",
            fix=f"make '{task.code_ref}' match the input dtypes (cast where needed), or correct the "
            "upstream declaration.",
        )
    column = missing.group("column") or missing.group("bare")
    valid = _names(missing.group("valid"))
    return _missing_column(task, column, valid, inputs)


def _missing_column(
    task: TaskNode,
    column: str,
    valid: list[str] | None,
    inputs: Mapping[str, tuple[str, DatasetSchema, str]],
) -> SchemaContractError:
    lacking = [
        (param, ds, schema, origin)
        for param, (ds, schema, origin) in inputs.items()
        if valid is not None and list(schema.columns) == valid
    ] or [(param, ds, schema, origin) for param, (ds, schema, origin) in inputs.items()]
    candidates = valid if valid is not None else [c for _, _, s, _ in lacking for c in s.columns]
    suggestion = closest_column(column, candidates)
    if len(lacking) == 1:
        param, ds, schema, origin = lacking[0]
        where = f"input '{param}' ('{ds}', {origin}) does not provide; it has: {schema.describe()}"
    elif any(column in schema.columns for _, _, schema, _ in lacking):
        where = f"is not there where the task uses it (available there: {', '.join(valid or [])})"
    else:
        where = "none of its inputs provides: " + "; ".join(
            f"'{p}' ('{ds}', {o}) has {s.describe()}" for p, ds, s, o in lacking
        )
    upstream = " or ".join(dict.fromkeys(_upstream_fix(origin, ds) for _, ds, _, origin in lacking))
    use = f"use '{suggestion}' (the closest existing column)" if suggestion else "use an existing column"
    return SchemaContractError(
        f"Task '{task.name}' uses column '{column}', which {where}.",
        fix=f"{use} in '{task.code_ref}', or add '{column}' upstream ({upstream}).",
    )


def _upstream_fix(origin: str, dataset_id: str) -> str:
    if origin.startswith("from task "):
        return f"return it {origin}"
    return f"declare it in the schema of '{dataset_id}'"


def _disagreement(
    pipeline: str, dataset_id: str, earlier: KnownSchema, schema: DatasetSchema
) -> SchemaContractError:
    comparison = compare_schemas(earlier.schema.columns, schema.columns, "freeze")
    differing = ", ".join(dict.fromkeys(d.column for d in comparison.differences))
    return SchemaContractError(
        f"Pipelines disagree about dataset '{dataset_id}': pipeline '{pipeline}' expects "
        f"{schema.describe()}, but it is {earlier.schema.describe()} ({earlier.origin}); they differ "
        f"in: {differing}.",
        fix=f"declare '{dataset_id}' once, with the same schema=, in every pipeline that uses it.",
    )


def _record(result: DerivedSchemas, dataset_id: str, schema: DatasetSchema, origin: str) -> None:
    result.schemas[dataset_id] = schema
    result.origins[dataset_id] = origin


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return re.findall(r'"([^"]*)"', text)


def _first_paragraph(exc: BaseException) -> str:
    """Polars appends the resolved plan and a context stack: keep the sentence before them."""
    return " ".join(str(exc).split("\n\n", 1)[0].split())
