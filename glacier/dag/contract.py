"""The backend contract: what the definition layer hands to every backend.

A ``CompiledPipeline`` is pure data plus callables: the typed DAG, the task functions by
task-node name, and the project root (the folder that must be on ``sys.path`` to import the
pipeline module; it is the code bundle's root when deploying). The local runner, the Pulumi
component and program, ``generate``, analysis and the cloud runner all take this object and
nothing from ``glacier.dsl``: a backend can be driven from a DAG read back from JSON, with
functions resolved by ``code_ref``.

A ``PipelineModule`` is what loading one file or module of pipelines yields: its import name,
root, file and the pipelines in data order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from glacier.dag.model import PipelineDAG
from glacier.errors import DiscoveryError


@dataclass(frozen=True)
class CompiledPipeline:
    """A typed DAG plus the functions its tasks name (task node name -> callable).

    ``functions`` may be empty: a backend then imports each task by its ``code_ref`` (which
    is what the cloud runtime does). ``root`` is None when the pipeline was built in a
    process with no module file (a notebook, a test): deploying it then needs a root.
    """

    dag: PipelineDAG
    functions: Mapping[str, Callable[..., Any]] = field(default_factory=dict)
    root: Path | None = None

    @property
    def name(self) -> str:
        return self.dag.name

    def with_root(self, root: Path | None) -> CompiledPipeline:
        return CompiledPipeline(dag=self.dag, functions=self.functions, root=root)


@dataclass(frozen=True)
class PipelineModule:
    """A loaded pipeline module: its import name, the directory that must be on sys.path
    to import it (the code bundle's root), and the pipelines found in it, in data order."""

    module_name: str
    root: Path
    file: Path | None
    pipelines: tuple[CompiledPipeline, ...]

    def select(self, name: str | None) -> tuple[CompiledPipeline, ...]:
        if name is None:
            return self.pipelines
        for pipeline in self.pipelines:
            if pipeline.name == name:
                return (pipeline,)
        known = ", ".join(p.name for p in self.pipelines) or "none"
        raise DiscoveryError(
            f"No pipeline named '{name}' in {self.module_name}.",
            fix=f"pass --pipeline with one of: {known}.",
        )


# A loader turns a file path or module name into a PipelineModule. Backends that must load
# user modules (the Pulumi program, ``glacier plan``) receive one from their caller
# (``pulumi_programs/__main__.py`` or the CLI pass ``glacier.dsl.load_pipelines``), so they
# never import the DSL themselves.
PipelineLoader = Callable[[str], PipelineModule]
