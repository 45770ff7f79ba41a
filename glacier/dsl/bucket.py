"""Bucket: a dataset location that chains into transformations (``raw.transform(t).to(out)``)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from glacier.dsl.lineage import LineageView, TransformStep, bind_sources, collect_lineage, ensure_task
from glacier.errors import DefinitionError

if TYPE_CHECKING:
    import polars as pl

    from glacier.dag.model import PipelineDAG
    from glacier.dsl.compile import CompiledPipeline
    from glacier.dsl.pipeline import Pipeline
    from glacier.dsl.provider import Provider
    from glacier.dsl.task import Task


class Bucket:
    """A dataset at ``path`` inside ``bucket``. The value ``.to()`` returns is a Bucket that
    also carries the lineage producing it: that lineage IS a pipeline definition."""

    def __init__(
        self,
        provider: Provider,
        bucket: str,
        path: str,
        config: dict[str, Any] | None = None,
        lineage: list[TransformStep] | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        managed: bool = True,
        step: TransformStep | None = None,
    ) -> None:
        self.provider = provider
        self.bucket = bucket
        self.path = path
        self.config = dict(config or {})
        self.managed = managed
        self._step = step
        self._given_lineage = tuple(lineage or ())
        self._metadata: dict[str, Any] = dict(metadata or {})

    # -- identity --------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The dataset's identity in the DAG: ``bucket/path``."""
        return f"{self.bucket}/{self.path}"

    def get_uri(self) -> str:
        return self.provider.get_bucket_uri(self.bucket, self.path)

    def _own_steps(self) -> list[TransformStep]:
        return [*self._given_lineage, *([self._step] if self._step else [])]

    @LineageView
    def _lineage(self) -> list[TransformStep]:
        return collect_lineage(self._own_steps())

    def _as_bucket(self) -> Bucket:
        return self

    # -- chaining --------------------------------------------------------------------------
    def transform(self, task: Task) -> PendingTransform:
        """Apply a task that reads this bucket; complete it with ``.to(target)``."""
        task = ensure_task(task, f"Bucket '{self.id}'")
        return PendingTransform(
            source=self, task=task, sources=bind_sources(task, {"": self}, positional=True)
        )

    def with_name(self, name: str, description: str | None = None) -> Bucket:
        """Name the pipeline this bucket's lineage defines (returns self)."""
        _check_pipeline_name(name)
        self._metadata["name"] = name
        if description:
            self._metadata["description"] = description
        return self

    # -- turning the lineage into a pipeline -----------------------------------------------
    @property
    def pipeline_name(self) -> str:
        return str(self._metadata.get("name") or default_pipeline_name(self.path))

    def to_pipeline(self) -> Pipeline:
        from glacier.dsl.pipeline import Pipeline

        self._require_lineage("convert")
        return Pipeline._from_lineage(
            name=self.pipeline_name,
            description=self._metadata.get("description"),
            steps=self._lineage,
            head=self,
        )

    def compile(self, name: str | None = None) -> CompiledPipeline:
        from glacier.dsl.compile import compile_steps, gc_paused

        self._require_lineage("build a pipeline from")
        with gc_paused():
            return compile_steps(
                name or self.pipeline_name, self._lineage, description=self._metadata.get("description")
            )

    def to_dag(self) -> PipelineDAG:
        return self.compile().dag

    def visualize(self) -> str:
        """Mermaid flowchart of the pipeline that produces this bucket."""
        from glacier.dag.render import to_mermaid

        self._require_lineage("visualize")
        return to_mermaid(self.to_dag())

    def run(self, mode: str = "local", **kwargs: Any) -> Any:
        """Run the pipeline that produces this bucket: mode local | analyze | generate | cloud."""
        from glacier.dsl.modes import run_mode

        self._require_lineage("run")
        return run_mode(self.compile(), mode, **kwargs)

    def scan(self, storage: Any = None) -> pl.LazyFrame:
        """Read this dataset as a LazyFrame from where ``.run(mode="local", storage=...)``
        writes it: by default local disk (``./data`` for an AwsConfig provider), ``"s3"``
        for the provider's S3, or an explicit LocalConfig / AwsConfig."""
        from glacier.io import scan_dataset
        from glacier.io.storage import resolve_storage

        return scan_dataset(self.compile_dataset(), resolve_storage(self.provider.config, storage))

    def compile_dataset(self) -> Any:
        from glacier.dag.model import DatasetNode
        from glacier.formats import format_for_path

        return DatasetNode(
            id=self.id,
            bucket=self.bucket,
            path=self.path,
            format=format_for_path(self.path, bucket=self.bucket),
            managed=self.managed,
        )

    def _require_lineage(self, verb: str) -> None:
        if not self._own_steps():
            raise DefinitionError(
                f"Cannot {verb} bucket '{self.id}': it has no lineage (it is a source bucket with "
                "no transforms).",
                fix=f"{verb} the bucket that .to() returns, which carries the lineage "
                "(e.g. out = raw.transform(task).to(out)).",
            )

    def __repr__(self) -> str:
        steps = len(self._lineage) if self._own_steps() else 0
        lineage_info = f", lineage={steps} steps" if steps else ""
        return f"Bucket(bucket='{self.bucket}', path='{self.path}'{lineage_info})"


class PendingTransform:
    """``bucket.transform(task)``: needs ``.to(target)`` to become a step."""

    def __init__(self, source: Bucket, task: Task, sources: dict[str, Bucket] | None = None) -> None:
        self.source = source
        self.task = task
        self.sources = sources or bind_sources(task, {"": source}, positional=True)

    def to(self, target: Bucket | Any) -> Bucket:
        """Write the task's result to ``target``; returns the target carrying the lineage."""
        return complete_step(self.task, self.sources, target)

    def run(self, storage: Any = None, **kwargs: Any) -> pl.LazyFrame:
        """Run the task on the source and return its result without writing anything.
        ``storage`` picks where the sources are read, as for ``Bucket.scan``; other keyword
        arguments go to the task."""
        from glacier.io import as_lazy

        frames = {param: bucket.scan(storage) for param, bucket in self.sources.items()}
        return as_lazy(self.task.func(**frames, **kwargs), task=self.task.name)

    def __repr__(self) -> str:
        return f"PendingTransform(source={self.source.path}, task={self.task.name})"


def as_source(value: Any, role: str) -> Bucket:
    """Anything usable as a bucket: a Bucket, or a pipeline/bucket-with-lineage head."""
    as_bucket = getattr(value, "_as_bucket", None)
    if as_bucket is None:
        raise DefinitionError(
            f"{role} got {value!r}, which is not a bucket.",
            fix="pass a bucket from provider.bucket(...) or the value a .to() returned.",
        )
    bucket: Bucket = as_bucket()
    return bucket


def complete_step(task: Task, sources: dict[str, Bucket], target: Any) -> Bucket:
    out = as_source(target, f"Task '{task.name}' .to()")
    step = TransformStep(task=task, sources=sources, target=_plain(out))
    return Bucket(
        provider=out.provider,
        bucket=out.bucket,
        path=out.path,
        config=out.config,
        metadata=out._metadata.copy(),
        managed=out.managed,
        step=step,
    )


def _plain(bucket: Bucket) -> Bucket:
    if not bucket._own_steps():
        return bucket
    return Bucket(bucket.provider, bucket.bucket, bucket.path, bucket.config, managed=bucket.managed)


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,79}$")


def _check_pipeline_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise DefinitionError(
            f"Pipeline name {name!r} cannot be used to name cloud resources.",
            fix="use 1-80 letters, digits, '_' or '-', starting with a letter (e.g. 'daily_etl').",
        )


def default_pipeline_name(path: str) -> str:
    return "pipeline_" + re.sub(r"[^A-Za-z0-9]+", "_", path).strip("_")
