"""The typed DAG: pure graph data and algebra, no I/O."""

from glacier.dag.build import DatasetRef, StepSpec, build_dag
from glacier.dag.model import DatasetNode, ExecutorSpec, PipelineDAG, TaskDefinition, TaskNode

__all__ = [
    "DatasetNode",
    "DatasetRef",
    "ExecutorSpec",
    "PipelineDAG",
    "StepSpec",
    "TaskDefinition",
    "TaskNode",
    "build_dag",
]
