"""Bucket: a dataset location that chains into transformations (``raw.transform(t).to(out)``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from glacier.dag.refs import DatasetRef
from glacier.dsl.lineage import (
    Dataset,
    LineageView,
    StorageProvider,
    TransformStep,
    bind_sources,
    collect_lineage,
    complete_step,
    ensure_task,
)
from glacier.dsl.names import check_description, check_pipeline_name, default_pipeline_name
from glacier.dsl.pipeline import Pipeline
from glacier.dsl.task import Task
from glacier.dsl.triggers import Triggers
from glacier.errors import DefinitionError

if TYPE_CHECKING:
    import polars as pl

    from glacier.dag.contract import CompiledPipeline
    from glacier.dag.model import DatasetNode, PipelineDAG
    from glacier.dag.schema import DatasetSchema


class Bucket:
    """A dataset at ``path`` inside ``bucket``. The value ``.to()`` returns is a Bucket that
    also carries the lineage producing it: that lineage IS a pipeline definition."""

    def __init__(
        self,
        provider: StorageProvider,
        bucket: str,
        path: str,
        config: dict[str, Any] | None = None,
        lineage: list[TransformStep] | None = None,
        metadata: dict[str, Any] | None = None,
        *,
        managed: bool = True,
        step: TransformStep | None = None,
        schema: DatasetSchema | None = None,
        partition_by: tuple[str, ...] = (),
    ) -> None:
        self.provider = provider
        self.bucket = bucket
        self.path = path
        self.config = dict(config or {})
        self.managed = managed
        self.schema = schema  # the declared schema (None: derived when compiled, if it can be)
        self.partition_by = partition_by  # hive partition keys (a directory dataset)
        self._step = step
        self._given_lineage = tuple(lineage or ())
        self._metadata: dict[str, Any] = dict(metadata or {})  # the seeds' name/description
        self._triggers = Triggers()

    # -- identity --------------------------------------------------------------------------
    @property
    def id(self) -> str:
        """The dataset's identity in the DAG: ``bucket/path``."""
        return f"{self.bucket}/{self.path}"

    def get_uri(self) -> str:
        return self.provider.get_bucket_uri(self.bucket, self.path)

    def as_bucket(self) -> Bucket:
        return self

    # -- the public lineage API (discovery and compile use only these) ----------------------
    @property
    def produced_by(self) -> TransformStep | None:
        """The step whose output this bucket is (set by ``.to()``); None for a declared one."""
        return self._step

    def recorded_steps(self) -> tuple[TransformStep, ...]:
        """The steps recorded on this bucket itself (a ``lineage=`` given to the constructor,
        then ``produced_by``); what they read carries the rest of the lineage."""
        return (*self._given_lineage, self._step) if self._step else self._given_lineage

    def steps(self) -> list[TransformStep]:
        """Every step that produces this bucket, upstream first, each once."""
        return collect_lineage(self.recorded_steps())

    _lineage = LineageView(steps)

    @property
    def defines_pipeline(self) -> bool:
        """True when this bucket carries lineage: it is then a pipeline definition."""
        return bool(self._step or self._given_lineage)

    @property
    def declared_name(self) -> str | None:
        """The name given with ``.with_name()``, if any."""
        name = self._metadata.get("name")
        return str(name) if name else None

    @property
    def description(self) -> str | None:
        description = self._metadata.get("description")
        return str(description) if description else None

    def written_by(self, task: Task, sources: Mapping[str, Dataset]) -> Bucket:
        """This location as the output of ``task`` reading ``sources``: a new Bucket that
        carries that step (what ``.to(self)`` returns). The step keeps a plain copy of the
        location, not this bucket's own lineage."""
        target = self if not self.defines_pipeline else self._plain()
        step = TransformStep(task=task, sources=sources, target=target)
        return Bucket(
            self.provider,
            self.bucket,
            self.path,
            self.config,
            metadata=self._metadata,
            managed=self.managed,
            step=step,
            schema=self.schema,
            partition_by=self.partition_by,
        )

    def _plain(self) -> Bucket:
        return Bucket(
            self.provider,
            self.bucket,
            self.path,
            self.config,
            managed=self.managed,
            schema=self.schema,
            partition_by=self.partition_by,
        )

    # -- chaining --------------------------------------------------------------------------
    def transform(self, task: Task) -> PendingTransform:
        """Apply a task that reads this bucket; complete it with ``.to(target)``."""
        task = ensure_task(task, f"Bucket '{self.id}'")
        return PendingTransform(
            source=self, task=task, sources=bind_sources(task, {"": self}, positional=True)
        )

    def with_name(self, name: str, description: str | None = None) -> Bucket:
        """Name the pipeline this bucket's lineage defines (returns self)."""
        check_pipeline_name(name)
        check_description(name, description)
        self._metadata["name"] = name
        if description:
            self._metadata["description"] = description
        return self

    def on_schedule(self, expression: str, timezone: str | None = None) -> Bucket:
        """Run the pipeline this bucket's lineage defines on an EventBridge Scheduler
        expression, in an IANA ``timezone`` (UTC when None). Returns self."""
        self._require_lineage("schedule")
        self._triggers = self._triggers.with_schedule(expression, timezone)
        return self

    def on_arrival(self, bucket: Any, prefix: str | None = None) -> Bucket:
        """Run the pipeline this bucket's lineage defines when an object is created in one of
        its source datasets (``bucket``: that dataset or a bucket name). Returns self."""
        self._require_lineage("trigger")
        self._triggers = self._triggers.with_arrival(bucket, prefix)
        return self

    @property
    def triggers(self) -> Triggers:
        """The schedule and arrivals declared on this bucket's pipeline."""
        return self._triggers

    # -- turning the lineage into a pipeline -----------------------------------------------
    @property
    def pipeline_name(self) -> str:
        return self.declared_name or default_pipeline_name(self.path)

    def to_pipeline(self) -> Pipeline:
        self._require_lineage("convert")
        return Pipeline.from_lineage(
            self.pipeline_name, self.steps(), description=self.description, head=self, triggers=self._triggers
        )

    def compile(self, name: str | None = None) -> CompiledPipeline:
        from glacier.dsl.compile import compile_steps, gc_paused  # the typed DAG: only now

        self._require_lineage("build a pipeline from")
        with gc_paused():
            return compile_steps(
                name or self.pipeline_name,
                self.steps(),
                description=self.description,
                triggers=self._triggers,
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

    def compile_dataset(self) -> DatasetNode:
        """This location as a DAG dataset node (the same node a compiled pipeline holds)."""
        from glacier.dag.build import dataset_node

        return dataset_node(
            DatasetRef(
                bucket=self.bucket,
                path=self.path,
                managed=self.managed,
                schema=self.schema,
                partition_by=self.partition_by,
            )
        )

    def _require_lineage(self, verb: str) -> None:
        if not self.defines_pipeline:
            raise DefinitionError(
                f"Cannot {verb} bucket '{self.id}': it has no lineage (it is a source bucket with "
                "no transforms).",
                fix=f"{verb} the bucket that .to() returns, which carries the lineage "
                "(e.g. out = raw.transform(task).to(out)).",
            )

    def __repr__(self) -> str:
        steps = len(self.steps()) if self.defines_pipeline else 0
        lineage_info = f", lineage={steps} steps" if steps else ""
        return f"Bucket(bucket='{self.bucket}', path='{self.path}'{lineage_info})"


class PendingTransform:
    """``bucket.transform(task)``: needs ``.to(target)`` to become a step."""

    def __init__(self, source: Bucket, task: Task, sources: Mapping[str, Dataset] | None = None) -> None:
        self.source = source
        self.task = task
        self.sources = (
            dict(sources) if sources is not None else bind_sources(task, {"": source}, positional=True)
        )

    def to(self, target: Bucket | Any) -> Bucket:
        """Write the task's result to ``target``; returns the target carrying the lineage."""
        written = complete_step(self.task, self.sources, target)
        assert isinstance(written, Bucket)  # every target stands for a Bucket (a pipeline's head)
        return written

    def run(self, storage: Any = None, **kwargs: Any) -> pl.LazyFrame:
        """Run the task on the source and return its result without writing anything.
        ``storage`` picks where the sources are read, as for ``Bucket.scan``; other keyword
        arguments go to the task."""
        from glacier.io import as_lazy

        frames = {param: bucket.scan(storage) for param, bucket in self.sources.items()}
        return as_lazy(self.task.func(**frames, **kwargs), task=self.task.name)

    def __repr__(self) -> str:
        return f"PendingTransform(source={self.source.path}, task={self.task.name})"
