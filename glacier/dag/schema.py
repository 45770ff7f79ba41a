"""Dataset schemas as pure data: column -> dtype name as Polars prints it.

A schema is kept as text (``"Int64"``, ``"Datetime(time_unit='us', time_zone=None)"``,
``"List(String)"``) so the typed DAG serialises to JSON and imports without Polars. The one
parser of those names lives here (``parse_dtype``): the derivation and run-time check turn
names back into Polars dtypes with it, the Glue catalog maps them to Hive types, and
``glacier schema infer`` prints them as Python. Polars is imported only by the functions
that take Polars objects (a declaration), which are called where Polars is already loaded.

Comparing two schemas gives precise differences (missing, extra, other dtype); column order
is not compared (tasks and readers select columns by name).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from glacier.errors import DefinitionError, GraphError

SchemaMode = Literal["freeze", "evolve"]
SCHEMA_MODES: tuple[SchemaMode, ...] = ("freeze", "evolve")


class SchemaContractError(GraphError):
    """A task and the schemas around it disagree: a missing column, another dtype, a
    declared output the task does not produce, two pipelines declaring one dataset apart."""


class DatasetSchema(BaseModel):
    """A dataset's columns (ordered: name -> Polars dtype name), whether they were declared
    by the user (else derived from the inputs) and how strictly a declaration holds."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    columns: dict[str, str]
    declared: bool = True
    mode: SchemaMode = "freeze"

    def describe(self) -> str:
        """``a (Int64), b (String)`` — the columns as a message shows them."""
        return describe_columns(self.columns)


# -- dtype names ----------------------------------------------------------------------------
@dataclass(frozen=True)
class DtypeSpec:
    """A parsed dtype name: ``List(Int64)`` is DtypeSpec("List", inner=(DtypeSpec("Int64"),));
    ``Struct({'a': Int64})`` has ``fields``; ``Datetime(time_unit='us', ...)`` has ``options``."""

    name: str
    inner: tuple[DtypeSpec, ...] = ()
    fields: tuple[tuple[str, DtypeSpec], ...] = ()
    options: tuple[tuple[str, Any], ...] = ()

    def option(self, key: str, default: Any = None) -> Any:
        return dict(self.options).get(key, default)

    def as_python(self, prefix: str = "pl.") -> str:
        """The Python expression that builds this dtype, e.g. ``pl.List(pl.Int64)``."""
        if self.fields:
            body = ", ".join(f"{key!r}: {spec.as_python(prefix)}" for key, spec in self.fields)
            return f"{prefix}{self.name}({{{body}}})"
        parts = [spec.as_python(prefix) for spec in self.inner]
        parts += [f"{key}={_literal(value)}" for key, value in self.options]
        return f"{prefix}{self.name}({', '.join(parts)})" if parts else f"{prefix}{self.name}"


def _literal(value: Any) -> str:
    # Enum categories are kept as a tuple (hashable); Polars prints and takes a list.
    return (
        repr(list(value))
        if isinstance(value, tuple) and all(isinstance(v, str) for v in value)
        else repr(value)
    )


@lru_cache(maxsize=4096)
def parse_dtype(name: str) -> DtypeSpec:
    """Parse a dtype name as Polars prints it. Raises ValueError for anything else.

    Uses ``ast`` on the text (never ``eval``): only names, calls of names, literals, and
    ``{'field': dtype}`` dicts are allowed."""
    try:
        tree = ast.parse(name.strip(), mode="eval").body
    except SyntaxError:
        raise ValueError(f"{name!r} is not a Polars dtype name") from None
    return _spec(tree, name)


def _spec(node: ast.expr, text: str) -> DtypeSpec:
    if isinstance(node, ast.Name):
        return DtypeSpec(node.id)
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        raise ValueError(f"{text!r} is not a Polars dtype name")
    head = node.func.id
    inner: list[DtypeSpec] = []
    fields: tuple[tuple[str, DtypeSpec], ...] = ()
    for arg in node.args:
        if isinstance(arg, ast.Dict):
            fields = _struct_fields(arg, text)
        else:
            inner.append(_spec(arg, text))
    options: list[tuple[str, Any]] = []
    for keyword in node.keywords:
        if keyword.arg is None:
            raise ValueError(f"{text!r} is not a Polars dtype name")
        if keyword.arg == "inner":
            inner.append(_spec(keyword.value, text))
            continue
        try:
            value = ast.literal_eval(keyword.value)
        except ValueError:
            raise ValueError(f"{text!r} is not a Polars dtype name") from None
        options.append((keyword.arg, tuple(value) if isinstance(value, list) else value))
    return DtypeSpec(head, tuple(inner), fields, tuple(options))


def _struct_fields(node: ast.Dict, text: str) -> tuple[tuple[str, DtypeSpec], ...]:
    fields = []
    for key, value in zip(node.keys, node.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise ValueError(f"{text!r} is not a Polars dtype name")
        fields.append((key.value, _spec(value, text)))
    return tuple(fields)


def python_dtype(name: str) -> str:
    """``"List(Int64)"`` -> ``"pl.List(pl.Int64)"``: what a user types in a declaration."""
    return parse_dtype(name).as_python()


# -- declarations ---------------------------------------------------------------------------
def dtype_name(dtype: Any, *, dataset: str, column: str) -> str:
    """The name Polars prints for a declared dtype: a dtype class (``pl.Int64``, its default
    parameters filled in), an instance (``pl.Datetime("ms")``), a Python type (``int``) or a
    dtype name. Raises DefinitionError naming the dataset and column."""
    import polars as pl  # a declaration holds Polars objects: Polars is already loaded

    try:
        if isinstance(dtype, str):
            return str(to_polars(dtype))
        if isinstance(dtype, type) and issubclass(dtype, pl.DataType):
            return str(dtype())
        if isinstance(dtype, pl.DataType):
            return str(dtype)
        return str(pl.datatypes.parse_into_dtype(dtype))
    except (TypeError, ValueError, AttributeError) as exc:
        hint = " (nested types need their inner type, e.g. pl.List(pl.Int64))" if "inner" in str(exc) else ""
        raise DefinitionError(
            f"Dataset '{dataset}' declares column '{column}' as {dtype!r}, which is not a Polars "
            f"dtype{hint}.",
            fix="declare each column with a Polars dtype, e.g. schema={'order_id': pl.Int64, "
            "'amount': pl.Float64, 'placed_at': pl.Datetime('us')}.",
        ) from None


def schema_from_declaration(declaration: Any, *, dataset: str, mode: str = "freeze") -> DatasetSchema:
    """A ``DatasetSchema`` from what a user passed as ``schema=`` (a mapping column -> dtype,
    a ``pl.Schema``, or a ``DatasetSchema``) and ``schema_mode=``."""
    if mode not in SCHEMA_MODES:
        raise DefinitionError(
            f"Dataset '{dataset}' has schema_mode={mode!r}.",
            fix="use schema_mode='freeze' (exact columns, the default) or 'evolve' (new columns allowed).",
        )
    if isinstance(declaration, DatasetSchema):
        return declaration.model_copy(update={"mode": mode, "declared": True})
    if not isinstance(declaration, Mapping) or not declaration:
        raise DefinitionError(
            f"Dataset '{dataset}' has schema={declaration!r}.",
            fix="pass a non-empty dict of column name -> Polars dtype (or a pl.Schema).",
        )
    columns: dict[str, str] = {}
    for column, dtype in declaration.items():
        if not isinstance(column, str) or not column:
            raise DefinitionError(
                f"Dataset '{dataset}' declares a column named {column!r}.",
                fix="name every column with a non-empty string.",
            )
        columns[column] = dtype_name(dtype, dataset=dataset, column=column)
    return DatasetSchema(columns=columns, declared=True, mode=mode)


def to_polars(name: str) -> Any:
    """The Polars dtype a name stands for (imports Polars)."""
    import polars as pl

    return _build(parse_dtype(name), pl)


def _build(spec: DtypeSpec, pl: Any) -> Any:
    cls = getattr(pl, spec.name, None)
    if not (isinstance(cls, type) and issubclass(cls, pl.DataType)):
        raise ValueError(f"'{spec.name}' is not a Polars dtype")
    if spec.fields:
        return cls({key: _build(value, pl) for key, value in spec.fields})
    args = [_build(inner, pl) for inner in spec.inner]
    options = {key: list(value) if key == "categories" else value for key, value in spec.options}
    return cls(*args, **options) if args or options else cls()


# -- comparing ------------------------------------------------------------------------------
DifferenceKind = Literal["missing", "extra", "dtype"]


@dataclass(frozen=True)
class SchemaDifference:
    """One way a provided schema differs from the expected one."""

    kind: DifferenceKind
    column: str
    expected: str | None  # the declared dtype (None for an extra column)
    actual: str | None  # the provided dtype (None for a missing column)

    def describe(self) -> str:
        if self.kind == "missing":
            return f"column '{self.column}' ({self.expected}) is missing"
        if self.kind == "extra":
            return f"column '{self.column}' ({self.actual}) is not declared"
        return f"column '{self.column}' is {self.actual}, declared {self.expected}"


@dataclass(frozen=True)
class SchemaComparison:
    differences: tuple[SchemaDifference, ...]
    added: tuple[str, ...]  # columns an 'evolve' declaration lets through (history records them)

    @property
    def ok(self) -> bool:
        return not self.differences


def compare_schemas(
    expected: Mapping[str, str], actual: Mapping[str, str], mode: SchemaMode = "freeze"
) -> SchemaComparison:
    """How ``actual`` differs from ``expected``: missing columns, other dtypes, and (freeze)
    extra columns; under 'evolve' extra columns are allowed and returned as ``added``."""
    differences = [
        SchemaDifference("missing", column, dtype, None)
        for column, dtype in expected.items()
        if column not in actual
    ]
    differences += [
        SchemaDifference("dtype", column, dtype, actual[column])
        for column, dtype in expected.items()
        if column in actual and actual[column] != dtype
    ]
    extra = tuple(column for column in actual if column not in expected)
    if mode == "freeze":
        differences += [SchemaDifference("extra", column, None, actual[column]) for column in extra]
        extra = ()
    return SchemaComparison(tuple(differences), extra)


# -- wording --------------------------------------------------------------------------------
def describe_columns(columns: Mapping[str, str], limit: int = 12) -> str:
    shown = [f"{name} ({dtype})" for name, dtype in list(columns.items())[:limit]]
    more = len(columns) - limit
    return ", ".join(shown) + (f", ... ({more} more)" if more > 0 else "") if shown else "no columns"


def describe_differences(differences: Iterable[SchemaDifference]) -> str:
    return "; ".join(d.describe() for d in differences)


def closest_column(column: str, candidates: Iterable[str]) -> str | None:
    """The candidate a misspelled column most likely meant (case-insensitive), if any."""
    names = list(candidates)
    lowered = {name.lower(): name for name in names}
    if column.lower() in lowered:
        return lowered[column.lower()]
    match = difflib.get_close_matches(column.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def difference_fix(differences: Iterable[SchemaDifference], *, producer: str | None) -> str:
    """The fix for a produced schema that breaks its declaration, column by column."""
    steps: list[str] = []
    where = f"task '{producer}'" if producer else "the data"
    for d in differences:
        if d.kind == "dtype" and d.expected is not None:
            steps.append(
                f"cast it in {where} (pl.col({d.column!r}).cast({python_dtype(d.expected)})) or declare "
                f"{d.column!r}: {python_dtype(str(d.actual))}"
            )
        elif d.kind == "missing":
            steps.append(f"produce column {d.column!r} in {where} or remove it from the declaration")
        elif d.kind == "extra":
            steps.append(f"drop column {d.column!r} in {where}, declare it, or use schema_mode='evolve'")
    return "; ".join(dict.fromkeys(steps)) + "."
