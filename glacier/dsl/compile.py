"""DSL -> typed DAG: the one bridge between definition objects and pure data."""

from __future__ import annotations

import gc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

from glacier.config import StorageConfig
from glacier.dag.build import build_dag, with_datasets, with_schema
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import PipelineDAG
from glacier.dag.schema import DatasetSchema
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
    return with_derived_schemas(CompiledPipeline(dag=dag, functions=functions))


def with_derived_schemas(compiled: CompiledPipeline) -> CompiledPipeline:
    """Check the pipeline against its declared schemas (tasks called on empty frames: no data
    is read) and give every dataset whose schema can be derived that schema. Raises the first
    SchemaContractError found. A pipeline with no declaration is returned as it is."""
    declared = declared_schemas(compiled.dag)
    if not declared:
        return compiled
    from glacier.schema.derive import derive_schemas  # imports Polars: only when declared

    derived = derive_schemas(compiled, declared)
    derived.raise_first()
    return with_schemas(compiled, derived.schemas)


def with_shared_schemas(pipelines: Sequence[CompiledPipeline]) -> list[CompiledPipeline]:
    """Pipelines of one module, in data order, checked together: a dataset one pipeline
    writes gives its schema to the pipelines that read it, and two pipelines giving one
    dataset different schemas is a SchemaContractError. Each pipeline was already checked
    alone when it was compiled."""
    declared = {p.name: declared_schemas(p.dag) for p in pipelines}
    if len(pipelines) < 2 or not any(declared.values()):
        return list(pipelines)
    from glacier.schema.derive import derive_pipelines

    results = derive_pipelines(pipelines, declared)
    for result in results:
        result.raise_first()
    return [with_schemas(p, result.schemas) for p, result in zip(pipelines, results, strict=True)]


def declared_schemas(dag: PipelineDAG) -> dict[str, DatasetSchema]:
    return {ds.id: schema for ds in dag.datasets if (schema := ds.declared_schema) is not None}


def with_schemas(compiled: CompiledPipeline, schemas: Mapping[str, DatasetSchema]) -> CompiledPipeline:
    """The pipeline with the derived schemas written onto its undeclared dataset nodes."""
    datasets = tuple(
        with_schema(ds, schemas.get(ds.id)) if not ds.schema_declared else ds for ds in compiled.dag.datasets
    )
    if all(new is old for new, old in zip(datasets, compiled.dag.datasets, strict=True)):
        return compiled
    dag = with_datasets(compiled.dag, datasets)
    return CompiledPipeline(dag=dag, functions=compiled.functions, root=compiled.root)


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
    configs: list[StorageConfig] = []
    for config in distinct.values():
        if config not in configs:  # configs compare by type and field values
            configs.append(config)
    if len(configs) != 1:
        raise DefinitionError(
            f"Pipeline '{name}' mixes buckets from providers with different storage configs.",
            fix="create every bucket of one pipeline from the same Provider.",
        )
    return configs[0]
