"""Build a validated PipelineDAG from plain step records.

The DSL turns its lineage into ``StepSpec`` records (pure data) and calls ``build_dag``;
nothing here knows about Bucket, Task or Pipeline objects. Every step is O(1) amortised, so
building is linear in the number of steps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from glacier.config import StorageConfig
from glacier.dag.model import DatasetNode, PipelineDAG, TaskDefinition, TaskNode, topological_sort
from glacier.dag.schema import DatasetSchema, compare_schemas, describe_differences
from glacier.dag.triggers import ArrivalSpec, ScheduleTrigger, resolve_triggers
from glacier.errors import DefinitionError, GraphError
from glacier.formats import format_for_path


@dataclass(frozen=True)
class DatasetRef:
    bucket: str
    path: str
    managed: bool = True
    # The user's declaration, if any. Not part of equality/hash: a ref is a location.
    schema: DatasetSchema | None = field(default=None, compare=False)
    partition_by: tuple[str, ...] = ()  # hive partition keys of a directory dataset

    @cached_property
    def id(self) -> str:
        return f"{self.bucket}/{self.path}"


@dataclass(frozen=True)
class StepSpec:
    """One ``sources -> task -> target`` step, sources already bound to parameter names."""

    task: TaskDefinition
    inputs: tuple[tuple[str, DatasetRef], ...]
    output: DatasetRef


def normalize_location(bucket: str, path: str) -> DatasetRef:
    """Check a bucket name and path the way S3 would, and normalise the path."""
    check_bucket_name(bucket)
    if not isinstance(path, str) or not path.strip("/"):
        raise DefinitionError(
            f"Bucket '{bucket}' needs a path inside it, got {path!r}.",
            fix="pass path='folder/name.parquet' (or a folder ending in '/').",
        )
    is_dir = path.endswith("/")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise DefinitionError(
            f"Bucket '{bucket}' path {path!r} contains '.' or '..'.",
            fix="use a plain relative key such as 'raw/data.parquet'.",
        )
    normalized = "/".join(parts) + ("/" if is_dir else "")
    format_for_path(normalized, bucket=bucket)  # unknown formats fail at definition time
    return DatasetRef(bucket=bucket, path=normalized)


# S3's rules for general purpose bucket names
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), plus the
# virtual-hosted-style rule against a hyphen next to a period. Checked in this order; the
# first rule broken is the one reported.
_BUCKET_CHARS = re.compile(r"[^a-z0-9.-]")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_RESERVED_PREFIXES = {
    "xn--": "S3 reserves it: it marks punycode domain names",
    "sthree-": "S3 reserves it",
    "amzn-s3-demo-": "S3 reserves it for documentation examples",
}
_RESERVED_SUFFIXES = {
    "-s3alias": "S3 reserves it for access point aliases",
    "--ol-s3": "S3 reserves it for Object Lambda Access Point aliases",
    ".mrap": "S3 reserves it for Multi-Region Access Points",
    "--x-s3": "S3 reserves it for directory buckets",
    "--table-s3": "S3 reserves it for table buckets",
}
_NAME_FIX = (
    "use 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or "
    "digit (e.g. 'data-lake')."
)


def check_bucket_name(name: object) -> None:
    """Refuse, at definition time, any name S3 would refuse when the bucket is created."""
    broken = _broken_bucket_rule(name)
    if broken is not None:
        rule, fix = broken
        raise DefinitionError(f"Bucket name {name!r} is not a valid S3 bucket name: {rule}.", fix=fix)


def _broken_bucket_rule(name: object) -> tuple[str, str] | None:
    if not isinstance(name, str):
        return "it is not a string", _NAME_FIX
    if not 3 <= len(name) <= 63:
        return f"it has {len(name)} characters (S3 allows 3 to 63)", _NAME_FIX
    bad = sorted(set(_BUCKET_CHARS.findall(name)))
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"it may contain only lowercase letters, digits, dots and hyphens (not {shown})", _NAME_FIX
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "it must begin and end with a letter or digit", _NAME_FIX
    if ".." in name:
        return (
            "it contains two adjacent periods",
            "separate the parts with a single period (e.g. 'data.lake').",
        )
    if ".-" in name or "-." in name:
        return "it has a hyphen next to a period", "drop the hyphen next to the period (e.g. 'data.lake')."
    if _IP_ADDRESS.match(name):
        return "it is formatted as an IP address", "use a name with letters, such as 'data-lake'."
    for prefix, why in _RESERVED_PREFIXES.items():
        if name.startswith(prefix):
            return f"it starts with '{prefix}' ({why})", f"choose a name that does not start with '{prefix}'."
    for suffix, why in _RESERVED_SUFFIXES.items():
        if name.endswith(suffix):
            return f"it ends with '{suffix}' ({why})", f"choose a name that does not end with '{suffix}'."
    return None


def dataset_node(ref: DatasetRef) -> DatasetNode:
    """The DAG node of a dataset location: the one place its format is decided."""
    node = DatasetNode(
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
    return PipelineDAG(
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
        node = TaskNode(
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
