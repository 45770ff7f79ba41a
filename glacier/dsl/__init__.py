"""The definition layer: providers, buckets, tasks and pipelines. Importing it reads and
writes nothing, and needs neither pulumi nor an AWS SDK, nor pydantic: defining tasks and
pipelines records plain data; the typed DAG (pydantic) is imported when a pipeline is
compiled, and the names that need it (``load_pipelines``, ``CompiledPipeline``,
``PipelineModule``) load on first use (PEP 562)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from glacier.dsl.bucket import Bucket, PendingTransform
from glacier.dsl.lineage import MultiSourceTransformStep, TransformStep
from glacier.dsl.pipeline import PendingStep, Pipeline
from glacier.dsl.provider import ExecutionResource, Provider
from glacier.dsl.task import Task
from glacier.lazy import lazy_attributes

if TYPE_CHECKING:
    from glacier.dag.contract import CompiledPipeline, PipelineModule
    from glacier.dsl.discovery import load_pipelines

__all__ = [
    "Bucket",
    "CompiledPipeline",
    "ExecutionResource",
    "MultiSourceTransformStep",
    "PendingStep",
    "PendingTransform",
    "Pipeline",
    "PipelineModule",
    "Provider",
    "Task",
    "TransformStep",
    "load_pipelines",
]

_HOMES = {
    "CompiledPipeline": "glacier.dag.contract",
    "PipelineModule": "glacier.dag.contract",
    "load_pipelines": "glacier.dsl.discovery",
}


__getattr__ = lazy_attributes(globals(), _HOMES)
