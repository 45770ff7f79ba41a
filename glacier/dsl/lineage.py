"""Lineage: the steps that produce a dataset, and how sources bind to task parameters.

A bucket returned by ``.to()`` keeps a reference to the single step that wrote it; the
full lineage is collected on demand by walking those references, so chaining a step is
O(1) and collecting is linear.

This module knows neither the Bucket nor the Pipeline class: a step reads and writes
``Dataset`` objects (what Bucket is), and anything with an ``as_bucket()`` method (a
Bucket, or a Pipeline standing for the bucket its last ``.to()`` wrote) can be a source or
a target. So the definition layer imports one way: task <- lineage <- pipeline <- bucket.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, Protocol

from glacier.dag.refs import DatasetRef, StepSpec
from glacier.dsl.task import Task
from glacier.errors import DefinitionError

if TYPE_CHECKING:
    import polars as pl

    from glacier.config import StorageConfig
    from glacier.dag.schema import DatasetSchema

StepKey = tuple[int, tuple[tuple[str, str], ...], str]


class StorageProvider(Protocol):
    """Where a dataset's bucket lives (a ``Provider``)."""

    @property
    def config(self) -> StorageConfig: ...

    def get_bucket_uri(self, bucket: str, path: str) -> str: ...


class Dataset(Protocol):
    """What a step reads or writes (a ``Bucket``): a location plus the steps recorded on it."""

    @property
    def provider(self) -> StorageProvider: ...

    @property
    def bucket(self) -> str: ...

    @property
    def path(self) -> str: ...

    @property
    def managed(self) -> bool: ...

    @property
    def schema(self) -> DatasetSchema | None: ...

    @property
    def id(self) -> str: ...

    @property
    def produced_by(self) -> TransformStep | None: ...

    @property
    def pipeline_name(self) -> str: ...

    def recorded_steps(self) -> tuple[TransformStep, ...]: ...

    def written_by(self, task: Task, sources: Mapping[str, Dataset]) -> Dataset: ...

    def get_uri(self) -> str: ...

    def scan(self, storage: Any = None) -> pl.LazyFrame: ...


@dataclass(frozen=True, eq=False)
class TransformStep:
    """``sources -> task -> target``; sources are keyed by the task parameter they feed."""

    task: Task
    sources: Mapping[str, Dataset]
    target: Dataset

    @property
    def source(self) -> Dataset | None:
        """The one source of a single-source step (None for a multi-source step)."""
        return next(iter(self.sources.values())) if len(self.sources) == 1 else None

    @cached_property
    def key(self) -> StepKey:
        return (
            id(self.task),
            tuple(sorted((param, bucket.id) for param, bucket in self.sources.items())),
            self.target.id,
        )

    def to_spec(self) -> StepSpec:
        return StepSpec(
            task=self.task.definition,
            inputs=tuple((param, _ref(bucket)) for param, bucket in self.sources.items()),
            output=_ref(self.target),
        )

    def __repr__(self) -> str:
        srcs = ", ".join(f"{p}={b.path}" for p, b in self.sources.items())
        return f"TransformStep({srcs} -> {self.task.name} -> {self.target.path})"


# The earlier design names the multi-source variant separately; it is the same record here.
MultiSourceTransformStep = TransformStep


def _ref(bucket: Dataset) -> DatasetRef:
    return DatasetRef(
        bucket=bucket.bucket,
        path=bucket.path,
        managed=bucket.managed,
        schema=bucket.schema,
        partition_by=getattr(bucket, "partition_by", ()),
    )


class LineageView:
    """``obj._lineage``: the steps producing a bucket or pipeline, collected on access (the
    seeds' name for ``obj.steps()``; Glacier's own modules use the public methods).

    Read on the class itself (``Bucket._lineage``) it is an empty list, so the seed's code
    generator loop (``hasattr(obj, '_lineage') and obj._lineage``) skips the imported
    ``Bucket`` and ``Pipeline`` classes instead of mistaking them for pipelines.
    """

    def __init__(self, collect: Callable[[Any], list[TransformStep]]) -> None:
        self._collect = collect
        self.__doc__ = collect.__doc__

    def __get__(self, obj: object, owner: type | None = None) -> list[TransformStep]:
        return [] if obj is None else self._collect(obj)


def collect_lineage(steps: Iterable[TransformStep]) -> list[TransformStep]:
    """Every step the given steps depend on, upstream first, each once (by identity of
    task, sources and target)."""
    seen: set[StepKey] = set()
    ordered: list[TransformStep] = []
    for root in steps:
        # Iterative post-order DFS: deep chains must not hit the recursion limit.
        stack: list[tuple[TransformStep, bool]] = [(root, False)]
        while stack:
            step, expanded = stack.pop()
            key = step.key
            if key in seen:
                continue
            if expanded:
                seen.add(key)
                ordered.append(step)
                continue
            stack.append((step, True))
            for bucket in reversed(list(step.sources.values())):
                for parent in reversed(bucket.recorded_steps()):
                    if parent.key not in seen:
                        stack.append((parent, False))
    return ordered


def as_source(value: Any, role: str) -> Dataset:
    """Anything usable as a bucket: a Bucket, or a pipeline/bucket-with-lineage head."""
    as_bucket = getattr(value, "as_bucket", None)
    if as_bucket is None or not callable(as_bucket):
        raise DefinitionError(
            f"{role} got {value!r}, which is not a bucket.",
            fix="pass a bucket from provider.bucket(...) or the value a .to() returned.",
        )
    bucket: Dataset = as_bucket()
    return bucket


def complete_step(task: Task, sources: Mapping[str, Dataset], target: Any) -> Dataset:
    """``.to(target)``: the target, as a new bucket that carries the step writing it."""
    return as_source(target, f"Task '{task.name}' .to()").written_by(task, sources)


def ensure_task(task: Any, where: str) -> Task:
    if isinstance(task, Task):
        return task
    if callable(task):
        raise DefinitionError(
            f"{where}.transform() got the plain function '{getattr(task, '__name__', task)}'.",
            fix="decorate it with @executor.task() (e.g. @provider.local().task()) first.",
        )
    raise DefinitionError(
        f"{where}.transform() got {task!r}, which is not a task.",
        fix="pass a function decorated with @executor.task().",
    )


def bind_sources(task: Task, sources: Mapping[str, Dataset], *, positional: bool) -> dict[str, Dataset]:
    """Map sources onto the task's parameters.

    A positional single source (``bucket.transform(t)``, ``.source(b)``, or the bucket a
    previous ``.to()`` wrote) feeds the task's one required parameter, whatever its name.
    Named sources must match the parameter names.
    """
    required = task.required_params
    allowed = set(required) | set(task.optional_params)
    if positional:
        (bucket,) = sources.values()
        if len(required) != 1:
            raise DefinitionError(
                f"Task '{task.name}' takes {len(required)} parameters ({', '.join(required)}) but "
                f"receives one source ('{bucket.id}').",
                fix=f"start a multi-source step: Pipeline({', '.join(f'{p}=...' for p in required)})"
                f".transform({task.name}).",
            )
        return {required[0]: bucket}
    names = set(sources)
    if not set(required) <= names <= allowed:
        raise DefinitionError(
            f"Task '{task.name}' parameters {sorted(allowed)} do not match sources {sorted(names)}.",
            fix=f"name the sources after the parameters: {', '.join(f'{p}=<bucket>' for p in required)}.",
        )
    return dict(sources)
