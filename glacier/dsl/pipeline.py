"""Pipeline: the factory style (``Pipeline(name=...).source(b).transform(t).to(out)``) and
the multi-source start (``Pipeline(sales_df=s, customers_df=c).transform(join).to(out)``).

Both build the same steps as chainable buckets. Every chaining call returns a new Pipeline
(so a partly built pipeline can be branched safely); after ``.to(b)`` the pipeline stands
wherever ``b`` can: as the source of another step or another pipeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from glacier.dsl.lineage import (
    Dataset,
    LineageView,
    StorageProvider,
    TransformStep,
    as_source,
    bind_sources,
    collect_lineage,
    complete_step,
    ensure_task,
)
from glacier.dsl.names import check_description, check_pipeline_name
from glacier.dsl.task import Task
from glacier.dsl.triggers import Triggers
from glacier.errors import DefinitionError

if TYPE_CHECKING:
    import polars as pl

    from glacier.dag.contract import CompiledPipeline
    from glacier.dag.model import PipelineDAG
    from glacier.dag.schema import DatasetSchema

RESERVED = ("name", "description", "config")


@dataclass(frozen=True)
class _Steps:
    """An immutable cons list of steps, so appending is O(1) and branches share a prefix."""

    step: TransformStep
    previous: _Steps | None

    def to_list(self) -> list[TransformStep]:
        out: list[TransformStep] = []
        node: _Steps | None = self
        while node is not None:
            out.append(node.step)
            node = node.previous
        out.reverse()
        return out


@dataclass(frozen=True)
class PendingStep:
    """A ``.transform(task)`` awaiting ``.to(bucket)``."""

    sources: Mapping[str, Dataset]
    task: Task


class Pipeline:
    def __init__(
        self,
        name: str | None = None,
        description: str | None = None,
        config: dict[str, Any] | None = None,
        **sources: Any,
    ) -> None:
        for word, value in (("name", name), ("description", description), ("config", config)):
            if hasattr(value, "as_bucket"):
                raise DefinitionError(
                    f"Pipeline({word}=...) got a bucket, but '{word}' is reserved.",
                    fix=f"rename that source and the task parameter (e.g. '{word}_df').",
                )
        if name is not None:
            check_pipeline_name(name)
        check_description(name, description)
        if name is None and not sources:
            raise DefinitionError(
                "Pipeline() needs a name or at least one source.",
                fix="write Pipeline(name='my_etl') or Pipeline(sales_df=sales, customers_df=customers).",
            )
        if config is not None and not isinstance(config, dict):
            raise DefinitionError(
                f"Pipeline '{name}' got config={config!r}.",
                fix="pass config as a dict, e.g. config={'owner': 'data-team'}.",
            )
        self.name = name
        self.description = description
        self.config: dict[str, Any] = dict(config or {})
        self._current: dict[str, Dataset] | None = None
        self._positional = False
        self._pending: PendingStep | None = None
        self._steps: _Steps | None = None
        self._head: Dataset | None = None
        self._extra: tuple[TransformStep, ...] = ()
        self._triggers = Triggers()
        if sources:
            self._current = _named_sources(sources, self._label)
        self._metadata: dict[str, Any] = {}  # the seeds' view of name and description
        self._sync_metadata()

    @classmethod
    def from_lineage(
        cls,
        name: str,
        steps: list[TransformStep],
        *,
        description: str | None = None,
        head: Dataset | None = None,
        triggers: Triggers | None = None,
    ) -> Pipeline:
        """A pipeline of these steps that continues from ``head`` (``bucket.to_pipeline()``)."""
        pipeline = cls(name=name, description=description)
        pipeline._extra = tuple(steps)
        pipeline._triggers = triggers or Triggers()
        if head is not None:
            pipeline._head = head
            pipeline._current = {"": head}
            pipeline._positional = True
        return pipeline

    def _evolve(self, **changes: Any) -> Pipeline:
        clone = object.__new__(Pipeline)
        clone.__dict__.update(self.__dict__)
        clone._metadata = dict(self._metadata)
        clone.config = dict(self.config)
        clone.__dict__.update(changes)
        return clone

    @property
    def _label(self) -> str:
        return f"Pipeline '{self.name}'" if self.name else "Pipeline"

    def _sync_metadata(self) -> None:
        if self.name:
            self._metadata["name"] = self.name
        if self.description:
            self._metadata["description"] = self.description

    # -- the chain -------------------------------------------------------------------------
    def source(self, bucket: Any) -> Pipeline:
        """Read one bucket; the next task receives it as its single parameter."""
        self._no_pending("source")
        return self._evolve(_current={"": as_source(bucket, f"{self._label}.source()")}, _positional=True)

    def sources(self, **buckets: Any) -> Pipeline:
        """Read several buckets; their names must equal the next task's parameter names."""
        self._no_pending("sources")
        if not buckets:
            raise DefinitionError(
                f"{self._label}.sources() got no buckets.",
                fix="pass them by parameter name: .sources(sales_df=sales, customers_df=customers).",
            )
        return self._evolve(_current=_named_sources(buckets, self._label), _positional=False)

    def transform(self, task: Any) -> Pipeline:
        task = ensure_task(task, self._label)
        self._no_pending("transform")
        if self._current is None:
            raise DefinitionError(
                f"{self._label}.transform({task.name}) has nothing to read.",
                fix="call .source(bucket) or .sources(name=bucket, ...) before .transform().",
            )
        bound = bind_sources(task, self._current, positional=self._positional)
        return self._evolve(_pending=PendingStep(sources=bound, task=task), _current=None)

    def to(self, bucket: Any) -> Pipeline:
        if self._pending is None:
            raise DefinitionError(
                f"{self._label}.to({getattr(bucket, 'id', bucket)}) has no transform to write.",
                fix="call .transform(task) before .to(bucket).",
            )
        written = complete_step(self._pending.task, self._pending.sources, bucket)
        step = written.produced_by
        assert step is not None  # complete_step always records the step
        return self._evolve(
            _pending=None,
            _steps=_Steps(step, self._steps),
            _head=written,
            _current={"": written},
            _positional=True,
        )

    def _no_pending(self, method: str) -> None:
        if self._pending is not None:
            raise DefinitionError(
                f"{self._label}: .{method}() follows .transform({self._pending.task.name}) without a .to().",
                fix=f"write the result first: .transform({self._pending.task.name}).to(bucket).",
            )

    # -- as a bucket (the head: what the last .to() wrote) ----------------------------------
    def as_bucket(self) -> Dataset:
        """The bucket the last ``.to()`` wrote: what this pipeline stands for as a source."""
        if self._head is None:
            raise DefinitionError(
                f"{self._label} has written no bucket yet, so it cannot be used as a source.",
                fix="finish it with .transform(task).to(bucket) first, or pass the bucket itself.",
            )
        return self._head

    @property
    def bucket(self) -> str:
        return self.as_bucket().bucket

    @property
    def id(self) -> str:
        return self.as_bucket().id

    @property
    def provider(self) -> StorageProvider:
        return self.as_bucket().provider

    @property
    def managed(self) -> bool:
        return self.as_bucket().managed

    @property
    def schema(self) -> DatasetSchema | None:
        return self.as_bucket().schema

    @property
    def path(self) -> str:
        return self.as_bucket().path

    def get_uri(self) -> str:
        return self.as_bucket().get_uri()

    def scan(self, storage: Any = None) -> pl.LazyFrame:
        return self.as_bucket().scan(storage)

    # -- the definition (the public lineage API discovery and compile use) -------------------
    @property
    def pending(self) -> PendingStep | None:
        """The ``.transform(task)`` still waiting for its ``.to()``, if any."""
        return self._pending

    @property
    def declared_name(self) -> str | None:
        """The name the user gave (``Pipeline(name=...)`` / ``.with_name()``), if any."""
        return self.name

    @property
    def defines_pipeline(self) -> bool:
        """True once a step is written or pending (a pending one is an error to report),
        False for a pipeline that only names its sources."""
        return self._pending is not None or bool(self._extra) or self._steps is not None

    def steps(self) -> list[TransformStep]:
        """Every step this pipeline runs, upstream first, each once. Raises DefinitionError
        while a ``.transform()`` has no ``.to()``."""
        self.check_complete()
        return self._completed_steps()

    def check_complete(self) -> None:
        if self._pending is not None:
            raise DefinitionError(
                f"{self._label} has an incomplete step: .transform({self._pending.task.name}) has no .to().",
                fix=f"complete it with .transform({self._pending.task.name}).to(bucket).",
            )

    def _completed_steps(self) -> list[TransformStep]:
        own = list(self._extra) + (self._steps.to_list() if self._steps else [])
        return collect_lineage(own)

    _lineage = LineageView(_completed_steps)

    def with_name(self, name: str, description: str | None = None) -> Pipeline:
        check_pipeline_name(name)
        check_description(name, description)
        self.name = name
        if description:
            self.description = description
        self._sync_metadata()
        return self

    def on_schedule(self, expression: str, timezone: str | None = None) -> Pipeline:
        """Run the deployed pipeline on an EventBridge Scheduler expression ("rate(1 day)",
        "cron(0 6 * * ? *)", "at(...)"), in an IANA ``timezone`` (UTC when None). Returns self."""
        self._triggers = self._triggers.with_schedule(expression, timezone)
        return self

    def on_arrival(self, bucket: Any, prefix: str | None = None) -> Pipeline:
        """Run the deployed pipeline when an object is created in one of its source datasets:
        ``bucket`` is that dataset (or a bucket name), ``prefix`` narrows the keys. Returns self."""
        self._triggers = self._triggers.with_arrival(bucket, prefix)
        return self

    @property
    def triggers(self) -> Triggers:
        """The schedule and arrivals declared on this pipeline."""
        return self._triggers

    @property
    def pipeline_name(self) -> str:
        if self.name:
            return self.name
        if self._head is not None:
            return self._head.pipeline_name
        raise DefinitionError(
            "This pipeline has no name.", fix="name it: Pipeline(name='...') or .with_name('...')."
        )

    def to_pipeline(self) -> Pipeline:
        return self

    def compile(self, name: str | None = None) -> CompiledPipeline:
        from glacier.dsl.compile import compile_steps, gc_paused  # the typed DAG: only now

        with gc_paused():
            steps = self.steps()
            if not steps:
                raise DefinitionError(
                    f"{self._label} has no steps.",
                    fix="add .transform(task).to(bucket) after the source.",
                )
            return compile_steps(
                name or self.pipeline_name, steps, description=self.description, triggers=self._triggers
            )

    def to_dag(self) -> PipelineDAG:
        return self.compile().dag

    def visualize(self) -> str:
        from glacier.dag.render import to_mermaid

        return to_mermaid(self.to_dag())

    def run(self, mode: str = "local", **kwargs: Any) -> Any:
        from glacier.dsl.modes import run_mode

        return run_mode(self.compile(), mode, **kwargs)

    def __repr__(self) -> str:
        steps = len(self._completed_steps())
        if self.name:
            return f"Pipeline(name='{self.name}', steps={steps})"
        names = ", ".join(k for k in (self._current or {}) if k)
        return f"Pipeline(sources=[{names}], steps={steps})"


def _named_sources(buckets: dict[str, Any], label: str) -> dict[str, Dataset]:
    out: dict[str, Dataset] = {}
    for key, value in buckets.items():
        if key in RESERVED:
            raise DefinitionError(
                f"{label}: '{key}' is reserved and cannot name a source.",
                fix=f"rename the task parameter and source (e.g. '{key}_df').",
            )
        out[key] = as_source(value, f"{label} source '{key}'")
    return out
