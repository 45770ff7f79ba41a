"""``.run(mode=...)``: the one place the definition layer hands a compiled pipeline to a
backend. Every backend takes the ``CompiledPipeline`` first and keyword options after it."""

from __future__ import annotations

import importlib
import inspect
import numbers
import os
from collections.abc import Callable
from typing import Any

from glacier.dag.contract import CompiledPipeline
from glacier.errors import DefinitionError

# mode -> (module, function taking the CompiledPipeline first)
_BACKENDS: dict[str, tuple[str, str]] = {
    "local": ("glacier.runner", "run_pipeline"),
    "analyze": ("glacier.analysis", "analyze"),
    "generate": ("glacier.deploy.generate", "generate_project"),
    "cloud": ("glacier.cloud", "run_cloud"),
}
MODES = tuple(_BACKENDS)


def run_mode(compiled: CompiledPipeline, mode: str, **options: Any) -> Any:
    if mode not in _BACKENDS:
        raise DefinitionError(
            f"Unknown run mode {mode!r} for pipeline '{compiled.name}'.",
            fix=f"use one of: {', '.join(MODES)}.",
        )
    module, name = _BACKENDS[mode]
    backend: Callable[..., Any] = getattr(importlib.import_module(module), name)
    _check_options(backend, mode, compiled.name, options)
    return backend(compiled, **options)


def _check_options(backend: Callable[..., Any], mode: str, pipeline: str, options: dict[str, Any]) -> None:
    """An unknown option is the user's mistake: name it instead of raising a TypeError (or,
    worse, ignoring it)."""
    params = list(inspect.signature(backend).parameters.values())[1:]
    known = [p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise DefinitionError(
            f"run(mode={mode!r}) of pipeline '{pipeline}' got unknown option(s) {', '.join(unknown)}.",
            fix=f"mode {mode!r} takes: {', '.join(known) or 'no options'}.",
        )
    for param in params:
        if param.name in options and _accepts(param.annotation, options[param.name]) is False:
            raise DefinitionError(
                f"run(mode={mode!r}) of pipeline '{pipeline}' got {param.name}={options[param.name]!r}.",
                fix=f"pass {param.name} as {param.annotation}.",
            )


# The annotations an option's value is judged by here (the backend's own signature says
# which applies); anything richer (a storage config, a reporter) is left to the backend.
_PLAIN_TYPES: dict[str, tuple[type, ...]] = {
    "bool": (bool,),
    "int": (numbers.Integral,),
    "float": (numbers.Real,),
    "str": (str,),
    "Path": (os.PathLike,),
    "None": (type(None),),
}


def _accepts(annotation: Any, value: Any) -> bool | None:
    """Whether ``value`` fits an annotation made only of plain types (``str | Path | None``),
    or None when the annotation is anything else."""
    names = [name.strip() for name in annotation.split("|")] if isinstance(annotation, str) else []
    if not names or not all(name in _PLAIN_TYPES for name in names):
        return None
    if isinstance(value, bool) and "bool" not in names:
        return False  # True is an int to isinstance, not to the user
    return isinstance(value, tuple(t for name in names for t in _PLAIN_TYPES[name]))
