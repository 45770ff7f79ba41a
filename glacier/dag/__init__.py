"""The typed DAG: pure graph data and algebra, no I/O."""

from glacier.dag.build import DatasetRef, StepSpec, build_dag
from glacier.dag.contract import CompiledPipeline, PipelineLoader, PipelineModule
from glacier.dag.model import DatasetNode, ExecutorSpec, PipelineDAG, TaskDefinition, TaskNode

__all__ = [
    "CompiledPipeline",
    "DatasetNode",
    "DatasetRef",
    "ExecutorSpec",
    "PipelineDAG",
    "PipelineLoader",
    "PipelineModule",
    "StepSpec",
    "TaskDefinition",
    "TaskNode",
    "build_dag",
]
