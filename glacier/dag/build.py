"""Build a validated PipelineDAG from plain step records.

The DSL turns its lineage into ``StepSpec`` records (pure data) and calls ``build_dag``;
nothing here knows about Bucket, Task or Pipeline objects. Every step is O(1) amortised, so
building is linear in the number of steps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from glacier.config import StorageConfig
from glacier.dag.model import DatasetNode, PipelineDAG, TaskDefinition, TaskNode, topological_sort
from glacier.dag.refs import DatasetRef, StepSpec, check_bucket_name, normalize_location
from glacier.dag.schema import DatasetSchema, compare_schemas, describe_differences
from glacier.dag.triggers import ArrivalSpec, ScheduleTrigger, resolve_triggers
from glacier.errors import DefinitionError, GraphError
from glacier.formats import format_for_path

__all__ = ["DatasetRef", "StepSpec", "build_dag", "check_bucket_name", "dataset_node", "normalize_location"]


def dataset_node(ref: DatasetRef) -> DatasetNode:
    """The DAG node of a dataset location: the one place its format is decided. A ref's
    fields were checked when it was made (``normalize_location``, ``partition_keys``), so
    the node is not validated again (``PipelineDAG.assemble``)."""
    node = DatasetNode.model_construct(
        id=ref.id,
        bucket=ref.bucket,
        path=ref.path,
        format=format_for_path(ref.path, bucket=ref.bucket),
        managed=ref.managed,
        partition_by=ref.partition_by,
    )
    return with_schema(node, ref.schema)


def with_schema(node: DatasetNode, schema: DatasetSchema | None) -> DatasetNode:
    """The node carrying ``schema`` (declared or derived); the node itself when None."""
    if schema is None:
        return node
    return node.model_copy(
        update={"columns": schema.columns, "schema_declared": schema.declared, "schema_mode": schema.mode}
    )


def with_datasets(dag: PipelineDAG, datasets: tuple[DatasetNode, ...]) -> PipelineDAG:
    """``dag`` with its dataset nodes replaced by same-id nodes (their schemas filled in): the
    graph is unchanged, so it is not validated again."""
    if [ds.id for ds in datasets] != [ds.id for ds in dag.datasets]:
        raise ValueError("with_datasets() keeps the same datasets, in the same order")
    copy = dag.model_copy(update={"datasets": datasets})
    copy.__dict__.pop("_dataset_index", None)  # a cached view of the old nodes
    return copy


def build_dag(
    name: str,
    steps: list[StepSpec],
    *,
    storage: StorageConfig,
    description: str | None = None,
    schedules: Sequence[ScheduleTrigger] = (),
    arrivals: Sequence[ArrivalSpec] = (),
) -> PipelineDAG:
    if not steps:
        raise GraphError(
            f"Pipeline '{name}' has no steps.",
            fix="add at least one .transform(task).to(bucket) step.",
        )
    datasets: dict[str, DatasetNode] = {}
    managed: dict[str, bool] = {}
    declarations: dict[str, DatasetSchema] = {}
    for step in steps:
        for ref in (*(ref for _, ref in step.inputs), step.output):
            _add_dataset(datasets, managed, declarations, ref)
        _no_self_read(step)  # before ordering, which would report it as a one-task cycle
    tasks = _name_tasks(steps)
    order = topological_sort(tasks)
    by_name = {task.name: task for task in tasks}
    written = {step.output.id for step in steps}
    sources = [ds for ds_id, ds in datasets.items() if ds_id not in written]
    return PipelineDAG.assemble(
        name=name,
        description=description,
        storage=storage,
        datasets=tuple(datasets[k] for k in sorted(datasets)),
        tasks=tuple(by_name[n] for n in order),
        triggers=resolve_triggers(name, schedules, arrivals, sources),
    )


def _add_dataset(
    datasets: dict[str, DatasetNode],
    managed: dict[str, bool],
    declarations: dict[str, DatasetSchema],
    ref: DatasetRef,
) -> None:
    if managed.setdefault(ref.bucket, ref.managed) != ref.managed:
        raise DefinitionError(
            f"Bucket '{ref.bucket}' is declared both managed and external (path '{ref.path}' has "
            f"managed={ref.managed}).",
            fix="declare every path of one bucket with the same managed= setting.",
        )
    if ref.id not in datasets:
        datasets[ref.id] = dataset_node(ref)
    if ref.schema is None:
        return
    first = declarations.setdefault(ref.id, ref.schema)
    if first is ref.schema:  # the same declaration object (the usual case): nothing to compare
        if not datasets[ref.id].schema_declared:  # an undeclared ref of this location came first
            datasets[ref.id] = with_schema(datasets[ref.id], ref.schema)
    elif first != ref.schema:
        _declared_twice(ref.id, first, ref.schema)


def _declared_twice(dataset_id: str, first: DatasetSchema, second: DatasetSchema) -> None:
    differences = compare_schemas(first.columns, second.columns).differences
    detail = (
        describe_differences(differences) if differences else f"schema_mode {first.mode!r} vs {second.mode!r}"
    )
    raise DefinitionError(
        f"Dataset '{dataset_id}' is declared twice with different schemas ({detail}).",
        fix="declare it once (one provider.bucket(..., schema=...) object) and reuse that object.",
    )


def _no_self_read(step: StepSpec) -> None:
    for param, ref in step.inputs:
        if ref.id == step.output.id:
            raise GraphError(
                f"Task '{step.task.name}' reads its own output '{ref.id}' (parameter '{param}').",
                fix="write the result to a different bucket path than the one the task reads.",
            )


def _name_tasks(steps: list[StepSpec]) -> list[TaskNode]:
    """One TaskNode per distinct step. A task used in several steps gets its output's path
    appended to its name, so every node name is unique and built from user-declared ids."""
    uses: dict[str, set[str]] = {}
    for step in steps:
        uses.setdefault(step.task.name, set()).add(step.output.id)
    nodes: dict[str, TaskNode] = {}
    for step in steps:
        name = step.task.name
        if len(uses[name]) > 1:
            name = f"{name}__{_slug(step.output.path)}"
        node = TaskNode.model_construct(  # from a checked TaskDefinition and ids made here
            **_definition_fields(step.task),
            name=name,
            inputs=dict(sorted((param, ref.id) for param, ref in step.inputs)),
            output=step.output.id,
        )
        previous = nodes.get(name)
        if previous is not None and previous != node:
            raise GraphError(
                f"Task '{step.task.name}' is applied twice to write '{step.output.id}' with "
                "different inputs.",
                fix="write each application of the task to its own bucket path.",
            )
        nodes[name] = node
    return list(nodes.values())


def _definition_fields(task: TaskDefinition) -> dict[str, Any]:
    # Field values as they are (not model_dump): nested models are reused, not rebuilt, which
    # keeps building large pipelines cheap.
    return {field: getattr(task, field) for field in TaskDefinition.model_fields if field != "name"}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", text).strip("_")
