"""The contract between the state machine and the entry points.

The state machine sends a ``TaskEvent`` (built from the DAG at deploy time: S3 URIs only,
never data) and gets back a ``TaskResult``.

Plain frozen dataclasses, read by plain code: a Lambda cold start parses its event without
importing pydantic or the typed DAG, so it pays for Polars and the task only. The one part
pydantic reads is a declared schema (``glacier.dag.schema.DatasetSchema``), imported when an
event carries one. A malformed event is a ConfigError naming the field: the state machine
was deployed by a Glacier whose events this runtime does not read.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Self

from glacier.errors import ConfigError
from glacier.formats import Format

if TYPE_CHECKING:
    from glacier.dag.model import DatasetNode, PipelineDAG, TaskNode
    from glacier.dag.schema import DatasetSchema

# How a Spark job (Glue ``Arguments``, EMR ``entryPointArguments``) gets its event: the
# TaskEvent as one JSON string, and a partitioned pipeline's partition as another
# (``glacier.deploy.asl`` renders them, ``glacier.runtime.spark_entry`` reads them).
SPARK_EVENT_ARG = "--glacier-event"
SPARK_PARTITION_ARG = "--glacier-partition"

_REDEPLOY = (
    "deploy the pipeline again with this Glacier version (glacier deploy): its state machine sends the events"
)


def _bad(what: str, value: Any, expected: str) -> ConfigError:
    return ConfigError(f"Invalid task event: {what}={value!r} is not {expected}.", fix=_REDEPLOY + ".")


def _text(what: str, value: Any, *, optional: bool = False) -> Any:
    if (value is None and optional) or isinstance(value, str):
        return value
    raise _bad(what, value, "a string")


def _texts(what: str, value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return list(value)
    raise _bad(what, value, "a list of strings")


def _text_map(what: str, value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    pairs = value.items() if isinstance(value, Mapping) else None
    if pairs is not None and all(isinstance(k, str) and isinstance(v, str) for k, v in pairs):
        return dict(value)
    raise _bad(what, value, "a mapping of strings to strings")


def _fields(cls: type, data: Any, what: str, aliases: Mapping[str, str] = {}) -> dict[str, Any]:
    """``data`` as constructor arguments of ``cls``: a mapping with no unknown key and every
    required field (``aliases``: the JSON name of a field -> its attribute)."""
    if not isinstance(data, Mapping):
        raise _bad(what, data, "a JSON object")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    given = {aliases.get(key, key): value for key, value in data.items()}
    unknown = sorted(set(given) - set(fields))
    if unknown:
        raise _bad(f"{what}.{unknown[0]}", given[unknown[0]], f"a field of {cls.__name__}")
    for name, field in fields.items():
        if name not in given and field.default is dataclasses.MISSING:
            raise ConfigError(f"Invalid task event: {what} has no '{name}'.", fix=_REDEPLOY + ".")
    return given


def _dump(value: Any, mode: Literal["python", "json"], exclude_none: bool) -> Any:
    if isinstance(value, _Record):
        return value.model_dump(mode=mode, exclude_none=exclude_none)
    if isinstance(value, dict):
        return {k: _dump(v, mode, exclude_none) for k, v in value.items()}
    if isinstance(value, list):
        return [_dump(v, mode, exclude_none) for v in value]
    if isinstance(value, Format):
        return value.value if mode == "json" else value
    if hasattr(value, "model_dump"):  # a DatasetSchema (pydantic)
        return value.model_dump(mode=mode, exclude_none=exclude_none)
    return value


class _Record:
    """The reading and writing API the entry points, the runner and the state machine use
    (named as pydantic names it, which these records were)."""

    _aliases: dict[str, str] = {}  # JSON name -> attribute

    @classmethod
    def model_validate(cls, data: Any) -> Self:
        if isinstance(data, cls):
            return data
        return cls(**_fields(cls, data, cls.__name__, cls._aliases))

    @classmethod
    def model_validate_json(cls, text: str | bytes | bytearray) -> Self:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ConfigError(f"Invalid task event: not JSON ({exc}).", fix=_REDEPLOY + ".") from None
        return cls.model_validate(data)

    def model_dump(
        self,
        *,
        mode: Literal["python", "json"] = "python",
        exclude: set[str] | None = None,
        exclude_none: bool = False,
    ) -> dict[str, Any]:
        names = {attribute: key for key, attribute in self._aliases.items()}
        out: dict[str, Any] = {}
        for field in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, field.name)
            if (exclude and field.name in exclude) or (exclude_none and value is None):
                continue
            out[names.get(field.name, field.name)] = _dump(value, mode, exclude_none)
        return out

    def model_dump_json(self, *, exclude: set[str] | None = None, exclude_none: bool = False) -> str:
        data = self.model_dump(mode="json", exclude=exclude, exclude_none=exclude_none)
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    def model_copy(self, *, update: Mapping[str, Any] | None = None) -> Self:
        return dataclasses.replace(self, **(update or {}))  # type: ignore[type-var]


@dataclass(frozen=True, kw_only=True)
class CatalogTarget(_Record):
    """The Glue Data Catalog table of a directory dataset, which the runtime keeps on its
    current version after each publish (``glacier.runtime.catalog``)."""

    database: str
    table: str

    def __post_init__(self) -> None:
        _text("catalog.database", self.database)
        _text("catalog.table", self.table)


@dataclass(frozen=True, kw_only=True)
class DatasetLocation(_Record):
    """Where one input or the output of a task is, and what it must hold."""

    uri: str  # s3://bucket/key (a key ending in '/' is a partitioned directory)
    format: Format
    schema_: DatasetSchema | None = None  # the declaration, if any ("schema" in JSON)
    partition_by: list[str] | None = None  # hive keys of a partitioned directory dataset
    partition: dict[str, str] | None = None  # set once ``uri`` names one partition of it
    catalog: CatalogTarget | None = None  # deployed outputs with an Athena table (directories)

    _aliases = {"schema": "schema_"}

    def __post_init__(self) -> None:
        where = f"location {self.uri!r}"
        _text("location.uri", self.uri)
        try:
            fmt = Format(self.format)
        except ValueError:
            known = ", ".join(f.value for f in Format)
            raise _bad(f"{where} format", self.format, f"one of {known}") from None
        object.__setattr__(self, "format", fmt)
        object.__setattr__(self, "schema_", _schema(where, self.schema_))
        object.__setattr__(self, "partition_by", _texts(f"{where} partition_by", self.partition_by))
        object.__setattr__(self, "partition", _text_map(f"{where} partition", self.partition))
        if self.catalog is not None and not isinstance(self.catalog, CatalogTarget):
            catalog = CatalogTarget(**_fields(CatalogTarget, self.catalog, f"{where} catalog"))
            object.__setattr__(self, "catalog", catalog)


def _schema(where: str, value: Any) -> DatasetSchema | None:
    """A declared schema: pydantic (the typed DAG's schema model) reads it, imported only now."""
    if value is None:
        return None
    from pydantic import ValidationError

    from glacier.dag.schema import DatasetSchema

    if isinstance(value, DatasetSchema):
        return value
    try:
        return DatasetSchema.model_validate(value)
    except ValidationError as exc:
        raise _bad(f"{where} schema", value, f"a dataset schema ({exc.errors()[0]['msg']})") from None


@dataclass(frozen=True, kw_only=True)
class TaskEvent(_Record):
    """What the state machine sends to run one task (S3 URIs only, never data)."""

    pipeline: str
    task: str
    code_ref: str  # "module:qualname", importable from the code bundle
    inputs: dict[str, DatasetLocation]  # task parameter -> dataset
    output: DatasetLocation
    execution: str | None = None  # the Step Functions execution name, for logs
    partition_by: list[str] | None = None  # hive partition columns of a directory output
    partition: dict[str, str] | None = None  # the one partition this run reads and writes

    def __post_init__(self) -> None:
        for name in ("pipeline", "task", "code_ref"):
            _text(name, getattr(self, name))
        _text("execution", self.execution, optional=True)
        if not isinstance(self.inputs, Mapping) or not all(isinstance(k, str) for k in self.inputs):
            raise _bad("inputs", self.inputs, "a mapping of task parameters to locations")
        inputs = {param: _location(f"inputs.{param}", loc) for param, loc in self.inputs.items()}
        object.__setattr__(self, "inputs", inputs)
        object.__setattr__(self, "output", _location("output", self.output))
        object.__setattr__(self, "partition_by", _texts("partition_by", self.partition_by))
        object.__setattr__(self, "partition", _text_map("partition", self.partition))

    @classmethod
    def for_task(
        cls,
        dag: PipelineDAG,
        task: TaskNode,
        uri_of: Callable[[DatasetNode], str],
        execution: str | None = None,
        partition: dict[str, str] | None = None,
    ) -> TaskEvent:
        """The event that runs ``task``: the one builder the local runner and the state
        machine share, so a task sees the same inputs wherever it runs."""

        def location(dataset_id: str) -> DatasetLocation:
            dataset = dag.dataset(dataset_id)
            return DatasetLocation(
                uri=uri_of(dataset),
                format=dataset.format,
                schema_=dataset.declared_schema,
                partition_by=list(dataset.partition_by) or None,
            )

        return cls(
            pipeline=dag.name,
            task=task.name,
            code_ref=task.code_ref,
            inputs={param: location(ds) for param, ds in task.inputs.items()},
            output=location(task.output),
            execution=execution,
            partition_by=partition_columns(task),
            partition=partition,
        )


def _location(what: str, value: Any) -> DatasetLocation:
    if isinstance(value, DatasetLocation):
        return value
    return DatasetLocation(**_fields(DatasetLocation, value, what, DatasetLocation._aliases))


@dataclass(frozen=True, kw_only=True)
class TaskResult(_Record):
    """What a task's run returns: its output, rows, bytes and seconds."""

    pipeline: str
    task: str
    status: Literal["succeeded"] = "succeeded"
    output: str
    rows: int | None = None  # None when counting would re-read the data
    bytes: int
    seconds: float
    # Columns beyond a schema_mode="evolve" declaration: dataset URI -> column -> dtype name.
    schema_added: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)


def partition_columns(task: TaskNode) -> list[str] | None:
    """The ``partition_by`` task config (a column or a list of columns), checked."""
    value = task.config.get("partition_by")
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise ConfigError(
        f"Task '{task.name}' has partition_by={value!r}.",
        fix="pass a column name or a list of column names.",
    )
