"""The typed DAG: pure graph data and algebra, no I/O.

The public names load on first use (PEP 562): the DSL records its plain step data
(``glacier.dag.refs``) when a user's module is imported, and the pydantic models here are
imported only when a pipeline is compiled (a Lambda cold start never compiles one).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glacier.lazy import lazy_attributes

if TYPE_CHECKING:
    from glacier.dag.build import build_dag
    from glacier.dag.contract import CompiledPipeline, PipelineLoader, PipelineModule
    from glacier.dag.model import DatasetNode, ExecutorSpec, PipelineDAG, TaskDefinition, TaskNode
    from glacier.dag.refs import DatasetRef, StepSpec

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

_HOMES = {
    "CompiledPipeline": "glacier.dag.contract",
    "DatasetNode": "glacier.dag.model",
    "DatasetRef": "glacier.dag.refs",
    "ExecutorSpec": "glacier.dag.model",
    "PipelineDAG": "glacier.dag.model",
    "PipelineLoader": "glacier.dag.contract",
    "PipelineModule": "glacier.dag.contract",
    "StepSpec": "glacier.dag.refs",
    "TaskDefinition": "glacier.dag.model",
    "TaskNode": "glacier.dag.model",
    "build_dag": "glacier.dag.build",
}


__getattr__ = lazy_attributes(globals(), _HOMES)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
