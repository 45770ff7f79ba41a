"""The definition layer: providers, buckets, tasks and pipelines. Importing it reads and
writes nothing, and needs neither pulumi nor an AWS SDK."""

from glacier.dag.contract import CompiledPipeline, PipelineModule
from glacier.dsl.bucket import Bucket, PendingTransform
from glacier.dsl.discovery import load_pipelines
from glacier.dsl.lineage import MultiSourceTransformStep, TransformStep
from glacier.dsl.pipeline import PendingStep, Pipeline
from glacier.dsl.provider import ExecutionResource, Provider
from glacier.dsl.task import Task

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
