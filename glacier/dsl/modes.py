"""``.run(mode=...)``: hand a compiled pipeline to the backend that mode names."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from typing import Any

from glacier.dsl.compile import CompiledPipeline
from glacier.errors import DefinitionError

# mode -> (module, function, what the function takes first)
_BACKENDS: dict[str, tuple[str, str, str]] = {
    "local": ("glacier.runner", "run_pipeline", "compiled"),
    "analyze": ("glacier.analysis", "analyze", "dag"),
    "generate": ("glacier.deploy.generate", "generate_project", "compiled_list"),
    "cloud": ("glacier.cloud", "run_cloud", "dag"),
}
MODES = tuple(_BACKENDS)


def run_mode(compiled: CompiledPipeline, mode: str, **kwargs: Any) -> Any:
    if mode not in _BACKENDS:
        raise DefinitionError(
            f"Unknown run mode {mode!r} for pipeline '{compiled.name}'.",
            fix=f"use one of: {', '.join(MODES)}.",
        )
    module, name, takes = _BACKENDS[mode]
    backend: Callable[..., Any] = getattr(importlib.import_module(module), name)
    _check_options(backend, mode, compiled.name, kwargs)
    first: Any = {"compiled": compiled, "dag": compiled.dag, "compiled_list": [compiled]}[takes]
    return backend(first, **kwargs)


def _check_options(backend: Callable[..., Any], mode: str, pipeline: str, kwargs: dict[str, Any]) -> None:
    """An unknown option is the user's mistake: name it instead of raising a TypeError."""
    params = list(inspect.signature(backend).parameters.values())[1:]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return
    known = [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(kwargs) - set(known))
    if unknown:
        raise DefinitionError(
            f"run(mode={mode!r}) of pipeline '{pipeline}' got unknown option(s) {', '.join(unknown)}.",
            fix=f"mode {mode!r} takes: {', '.join(known) or 'no options'}.",
        )
