"""The typed DAG: pure data, no I/O, no reference to the DSL objects that built it.

Datasets and tasks are nodes. An edge runs from a dataset to each task that reads it and
from a task to the dataset it writes. Every backend (local runner, Pulumi component,
analysis) walks this model and nothing else.
"""

from __future__ import annotations

import graphlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import Annotated, Any, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    ValidationError,
    computed_field,
    model_validator,
)

from glacier.config import AwsConfig, LambdaConfig, LocalConfig, SparkConfig
from glacier.dag.overlap import check_datasets_apart
from glacier.dag.schema import DatasetSchema, SchemaMode
from glacier.dag.triggers import Trigger, check_dag_triggers
from glacier.errors import GlacierError, GraphError
from glacier.formats import Format

ExecutorKind = Literal["local", "serverless", "spark"]
DataFrameApi = Literal["polars", "pyspark"]


class _Frozen(BaseModel):
    # defer_build: schemas are built on first use, so importing glacier stays cheap (the
    # Lambda cold start imports it through the user module).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class DatasetNode(_Frozen):
    """A dataset, identified by its URI-like id ``bucket/path``. ``columns``: its schema (column
    -> Polars dtype name), declared or derived when compiled, None when unknown; in JSON it is
    ``schema`` (pydantic's BaseModel owns the attribute name ``schema``)."""

    model_config = _Frozen.model_config | ConfigDict(validate_by_name=True, serialize_by_alias=True)

    id: str
    bucket: str
    path: str
    format: Format
    managed: bool = True  # False: an existing bucket Glacier only references by name
    columns: dict[str, str] | None = Field(default=None, alias="schema")
    schema_declared: bool = False
    schema_mode: SchemaMode = "freeze"
    partition_by: tuple[str, ...] = ()  # hive partition keys (directory datasets only)

    def __hash__(self) -> int:
        # The schema is a dict (unhashable); equal nodes share their location fields.
        return hash((self.id, self.format, self.managed))

    @property
    def is_directory(self) -> bool:
        return self.format is Format.PARQUET_DIR

    @property
    def dataset_schema(self) -> DatasetSchema | None:
        """The schema as the checks take it (None when unknown)."""
        if self.columns is None:
            return None
        return DatasetSchema(columns=self.columns, declared=self.schema_declared, mode=self.schema_mode)

    @property
    def declared_schema(self) -> DatasetSchema | None:
        """The user's declaration (what run-time checks enforce); None when only derived."""
        return self.dataset_schema if self.schema_declared else None


class ExecutorSpec(_Frozen):
    kind: ExecutorKind
    config: Annotated[LambdaConfig | SparkConfig, Field(discriminator="kind")]


class TaskDefinition(_Frozen):
    """What a task decorator records: everything about a task except where it is wired."""

    name: str
    executor: ExecutorSpec
    retries: int = Field(default=0, ge=0)
    timeout: float | None = Field(default=None, gt=0)
    cache: bool = False
    config: dict[str, JsonValue] = Field(default_factory=dict)
    # Exceptions (qualified class names) to retry; empty: any error except deterministic ones.
    retry_on: tuple[str, ...] = ()
    code_ref: str  # "module:qualname"
    code_hash: str  # sha256 of the function's source
    dataframe_api: DataFrameApi = "polars"
    required_params: tuple[str, ...] = ()
    optional_params: tuple[str, ...] = ()


class TaskNode(TaskDefinition):
    """A task wired into a DAG: its inputs (parameter -> dataset id) and its output."""

    inputs: dict[str, str]
    output: str


Storage = Annotated[AwsConfig | LocalConfig, Field(discriminator="kind")]


class PipelineDAG(BaseModel):
    """A validated pipeline graph. Tasks are kept in topological order, ties by name."""

    # defer_build: schemas are built on first use, so importing glacier stays cheap (the
    # Lambda cold start imports it through the user module).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    # pydantic wraps a ValueError raised while validating (GraphError is one) into a
    # ValidationError; these three entry points hand the user the GraphError itself.
    def __init__(self, **data: Any) -> None:
        with _graph_errors():
            super().__init__(**data)

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        with _graph_errors():
            return super().model_validate(obj, *args, **kwargs)

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any) -> Self:
        with _graph_errors():
            return super().model_validate_json(json_data, *args, **kwargs)

    name: str
    description: str | None = None
    storage: Storage = Field(default_factory=LocalConfig)
    datasets: tuple[DatasetNode, ...]
    tasks: tuple[TaskNode, ...]
    # What starts the deployed pipeline (its schedule, object arrivals); none: started by hand
    # or by the stack-wide default schedule.
    triggers: tuple[Trigger, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _drop_derived(cls, data: Any) -> Any:
        # `edges` is derived from the tasks; it is written to JSON for readers, not read back.
        if isinstance(data, dict) and "edges" in data:
            data = {k: v for k, v in data.items() if k != "edges"}
        return data

    @model_validator(mode="after")
    def _validate_graph(self) -> PipelineDAG:
        self._check_graph()
        return self

    def _check_graph(self) -> None:
        validate_graph(self)
        if self.triggers:
            check_dag_triggers(self.name, self.triggers, {ds.id for ds in self.source_datasets()})

    @classmethod
    def assemble(cls, **fields: Any) -> PipelineDAG:
        """The DAG of nodes made from values already checked, each with its own clear error
        (the DSL's checks; ``build_dag``): the graph rules run as when validating, the fields
        are not validated a second time. That spares compiling a pipeline pydantic's building
        of the DAG models' validators and its plugin scan (~14 ms, most of what compiling a
        small pipeline costs). Everything else (JSON, ``PipelineDAG(...)``) is validated."""
        dag = cls.model_construct(**fields)
        dag._check_graph()
        return dag

    # -- derived views (computed once; the model is frozen) -------------------------------
    @computed_field  # type: ignore[prop-decorator]
    @property
    def edges(self) -> list[tuple[str, str]]:
        """(from, to) pairs: ``dataset:<id>`` -> ``task:<name>`` -> ``dataset:<id>``."""
        out: list[tuple[str, str]] = []
        for task in self.tasks:
            for dataset_id in sorted(set(task.inputs.values())):
                out.append((f"dataset:{dataset_id}", f"task:{task.name}"))
            out.append((f"task:{task.name}", f"dataset:{task.output}"))
        return out

    @cached_property
    def _task_index(self) -> dict[str, TaskNode]:
        return {task.name: task for task in self.tasks}

    @cached_property
    def _dataset_index(self) -> dict[str, DatasetNode]:
        return {ds.id: ds for ds in self.datasets}

    @cached_property
    def _producer_index(self) -> dict[str, str]:
        return {task.output: task.name for task in self.tasks}

    @cached_property
    def _consumer_index(self) -> dict[str, tuple[str, ...]]:
        consumers: dict[str, list[str]] = {}
        for task in self.tasks:
            for dataset_id in sorted(set(task.inputs.values())):
                consumers.setdefault(dataset_id, []).append(task.name)
        return {k: tuple(v) for k, v in consumers.items()}

    def task(self, name: str) -> TaskNode:
        return self._task_index[name]

    def dataset(self, dataset_id: str) -> DatasetNode:
        return self._dataset_index[dataset_id]

    def producer(self, dataset_id: str) -> str | None:
        """Name of the task that writes this dataset, or None for a source dataset."""
        return self._producer_index.get(dataset_id)

    def consumers(self, dataset_id: str) -> tuple[str, ...]:
        return self._consumer_index.get(dataset_id, ())

    def upstream_tasks(self, task_name: str) -> tuple[str, ...]:
        """Tasks whose outputs this task reads (its direct dependencies), sorted."""
        deps = {self.producer(ds) for ds in self.task(task_name).inputs.values()}
        return tuple(sorted(d for d in deps if d is not None))

    def downstream_tasks(self, task_name: str) -> tuple[str, ...]:
        return self.consumers(self.task(task_name).output)

    def source_datasets(self) -> tuple[DatasetNode, ...]:
        """Datasets no task in this DAG writes: they must exist before a run."""
        return tuple(ds for ds in self.datasets if ds.id not in self._producer_index)

    def sink_datasets(self) -> tuple[DatasetNode, ...]:
        return tuple(
            ds for ds in self.datasets if ds.id in self._producer_index and not self.consumers(ds.id)
        )

    def topological_order(self) -> list[str]:
        return [task.name for task in self.tasks]

    def descendants(self, task_names: set[str]) -> set[str]:
        """The given tasks and everything downstream of them."""
        seen = set(task_names)
        stack = list(task_names)
        while stack:
            for child in self.downstream_tasks(stack.pop()):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return seen

    def iter_inputs(self, task_name: str) -> Iterator[tuple[str, DatasetNode]]:
        for param, dataset_id in self.task(task_name).inputs.items():
            yield param, self.dataset(dataset_id)


@contextmanager
def _graph_errors() -> Iterator[None]:
    try:
        yield
    except ValidationError as exc:
        for error in exc.errors():
            cause = error.get("ctx", {}).get("error")
            if isinstance(cause, GlacierError):
                raise cause from None
        raise GraphError(
            f"Not a valid pipeline DAG: {exc.error_count()} problem(s), first at "
            f"{'.'.join(str(p) for p in exc.errors()[0]['loc'])}: {exc.errors()[0]['msg']}.",
            fix="regenerate the JSON with `glacier graph PATH --format json` instead of editing it.",
        ) from None


def dependency_map(tasks: tuple[TaskNode, ...] | list[TaskNode]) -> dict[str, set[str]]:
    """task name -> names of the tasks it depends on (producers of its inputs)."""
    producer = {task.output: task.name for task in tasks}
    return {task.name: {producer[ds] for ds in task.inputs.values() if ds in producer} for task in tasks}


def stable_order(deps: Mapping[str, Iterable[str]], key: Callable[[str], Any] | None = None) -> list[str]:
    """Kahn's order via graphlib over ``node -> nodes it depends on``, each ready batch sorted
    (by name, or by ``key``) so the order is the same every time. Raises graphlib.CycleError."""
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter(
        {node: set(parents) for node, parents in deps.items()}
    )
    sorter.prepare()
    order: list[str] = []
    while sorter.is_active():
        ready = sorted(sorter.get_ready(), key=key)
        order.extend(ready)
        sorter.done(*ready)
    return order


def topological_sort(tasks: tuple[TaskNode, ...] | list[TaskNode]) -> list[str]:
    """The tasks' stable topological order; a cycle is a GraphError naming it."""
    try:
        return stable_order(dependency_map(tasks))
    except graphlib.CycleError as exc:
        cycle = exc.args[1]
        raise GraphError(
            f"The pipeline has a cycle: {' -> '.join(cycle)}.",
            fix="make sure no task reads (directly or through other tasks) the dataset it writes.",
        ) from None


def validate_graph(dag: PipelineDAG) -> None:
    """Every structural rule a runnable graph obeys. Raises GraphError naming the culprit."""
    known = {ds.id for ds in dag.datasets}
    if len(known) != len(dag.datasets):
        raise GraphError(f"Pipeline '{dag.name}' lists a dataset twice.", fix="list each dataset once.")
    if not dag.tasks:
        raise GraphError(
            f"Pipeline '{dag.name}' has no steps.",
            fix="add at least one .transform(task).to(bucket) step.",
        )
    names: set[str] = set()
    writers: dict[str, str] = {}
    for task in dag.tasks:
        if task.name in names:
            raise GraphError(
                f"Two tasks in pipeline '{dag.name}' are named '{task.name}'.",
                fix="give each task a unique name with task(name=...).",
            )
        names.add(task.name)
        for param, dataset_id in task.inputs.items():
            if dataset_id not in known:
                raise GraphError(
                    f"Task '{task.name}' parameter '{param}' reads unknown dataset '{dataset_id}'.",
                    fix="declare the dataset in the DAG's datasets.",
                )
        if task.output not in known:
            raise GraphError(
                f"Task '{task.name}' writes unknown dataset '{task.output}'.",
                fix="declare the dataset in the DAG's datasets.",
            )
        if task.output in task.inputs.values():
            raise GraphError(
                f"Task '{task.name}' reads its own output '{task.output}'.",
                fix="write the result to a different bucket path than the one the task reads.",
            )
        if task.output in writers:
            raise GraphError(
                f"Tasks '{writers[task.output]}' and '{task.name}' both write dataset '{task.output}'.",
                fix="give each task its own output bucket path.",
            )
        writers[task.output] = task.name
        _check_params(task)
    _check_order(dag, writers)
    check_datasets_apart(dag.datasets)


def _check_order(dag: PipelineDAG, writers: dict[str, str]) -> None:
    """Every task must come after the producers of its inputs. One linear pass; only when
    it fails is the (slower) sort run, to name the cycle if there is one."""
    done: set[str] = set()
    for task in dag.tasks:
        for dataset_id in task.inputs.values():
            producer = writers.get(dataset_id)
            if producer is not None and producer not in done:
                topological_sort(dag.tasks)  # raises GraphError naming the cycle, if any
                raise GraphError(
                    f"Pipeline '{dag.name}' lists task '{task.name}' before '{producer}', "
                    f"which writes its input '{dataset_id}'.",
                    fix="build the DAG with glacier.dag.build_dag, which orders tasks.",
                )
        done.add(task.name)


def _check_params(task: TaskNode) -> None:
    given = set(task.inputs)
    required = set(task.required_params)
    allowed = required | set(task.optional_params)
    missing = sorted(required - given)
    unexpected = sorted(given - allowed)
    if missing or unexpected:
        details = []
        if missing:
            details.append(f"no source for parameter(s) {', '.join(missing)}")
        if unexpected:
            details.append(f"source(s) {', '.join(unexpected)} match no parameter")
        raise GraphError(
            f"Task '{task.name}' takes ({', '.join(task.required_params + task.optional_params)}) "
            f"but {'; '.join(details)}.",
            fix="name each source after the task parameter that receives it.",
        )
