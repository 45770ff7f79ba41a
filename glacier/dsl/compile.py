"""DSL -> typed DAG: the one bridge between definition objects and pure data."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

from glacier.config import StorageConfig
from glacier.dag.build import build_dag
from glacier.dag.contract import CompiledPipeline
from glacier.dsl.lineage import TransformStep
from glacier.dsl.triggers import Triggers
from glacier.errors import DefinitionError


def compile_steps(
    name: str,
    steps: list[TransformStep],
    *,
    description: str | None = None,
    triggers: Triggers | None = None,
) -> CompiledPipeline:
    """The steps of one pipeline (its whole lineage, upstream first) as the backend contract.
    Each task's definition (source hash, signature, pydantic model) is built here, once."""
    with gc_paused():
        storage = _one_storage(name, steps)
        declared = triggers or Triggers()
        dag = build_dag(
            name,
            [step.to_spec() for step in steps],
            storage=storage,
            description=description,
            schedules=declared.schedules,
            arrivals=declared.arrivals,
        )
    by_output = {step.target.id: step.task.func for step in steps}
    functions = {task.name: by_output[task.output] for task in dag.tasks}
    return CompiledPipeline(dag=dag, functions=functions)


@contextmanager
def gc_paused() -> Iterator[None]:
    """Building a DAG allocates many small objects and frees none of them into reference
    cycles. Left on, CPython's cyclic collector would run full passes over the whole process
    heap mid-build (a cost set by everything else the process holds, not by the pipeline);
    reference counting still frees everything as usual while it is paused."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _one_storage(name: str, steps: list[TransformStep]) -> StorageConfig:
    # Distinct config objects first (usually one), then compare those by value.
    distinct = {
        id(b.provider.config): b.provider.config for s in steps for b in (*s.sources.values(), s.target)
    }
    configs: dict[str, StorageConfig] = {}
    for config in distinct.values():
        configs.setdefault(config.model_dump_json(), config)
    if len(configs) != 1:
        raise DefinitionError(
            f"Pipeline '{name}' mixes buckets from providers with different storage configs.",
            fix="create every bucket of one pipeline from the same Provider.",
        )
    return next(iter(configs.values()))
