"""``.run(mode=...)``: hand a compiled pipeline to the backend that mode names."""

from __future__ import annotations

from typing import Any

from glacier.dsl.compile import CompiledPipeline
from glacier.errors import DefinitionError

MODES = ("local", "analyze", "generate", "cloud")


def run_mode(compiled: CompiledPipeline, mode: str, **kwargs: Any) -> Any:
    if mode == "local":
        from glacier.runner import run_pipeline

        return run_pipeline(compiled, **kwargs)
    if mode == "analyze":
        from glacier.analysis import analyze

        return analyze(compiled.dag, **kwargs)
    if mode == "generate":
        from glacier.deploy.generate import generate_project

        return generate_project([compiled], **kwargs)
    if mode == "cloud":
        from glacier.cloud import run_cloud

        return run_cloud(compiled.dag, **kwargs)
    raise DefinitionError(
        f"Unknown run mode {mode!r} for pipeline '{compiled.name}'.",
        fix=f"use one of: {', '.join(MODES)}.",
    )
