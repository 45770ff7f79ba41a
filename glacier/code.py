"""Task code: the one place that hashes a function's source and resolves a code reference.

Standard library only: the DSL (code hash at compile time), the local runner (cache keys,
importing tasks by reference), the cloud runtime (Lambda / Glue entry points) and packaging
(code fingerprints) all use these two functions.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib
import inspect
import re
import sys
import textwrap
import typing
from collections.abc import Callable
from typing import Any, Literal

from glacier.errors import ExecutionError

# code object id -> (code object, hash). Finding a function's source tokenizes it, which
# dominates hashing; one function often backs many tasks (dynamic pipelines). Keyed by
# identity (the entry keeps the code object alive, so its id is never reused).
_SOURCE_HASHES: dict[int, tuple[object, str]] = {}
_SOURCE_HASHES_MAX = 4096


def function_source(func: Callable[..., Any] | None) -> str:
    """The dedented source of ``func`` (unwrapped), or "" when Python cannot find it."""
    if func is None:
        return ""
    try:
        return textwrap.dedent(inspect.getsource(inspect.unwrap(func)))
    except (OSError, TypeError):
        return ""


def source_hash(func: Callable[..., Any]) -> str:
    """sha256 of the function's source (its bytecode when no source is available), as it
    was when this function object's code was first hashed."""
    code = getattr(func, "__code__", None)
    if code is None:
        return _hash_source(func)
    entry = _SOURCE_HASHES.get(id(code))
    if entry is not None and entry[0] is code:
        return entry[1]
    if len(_SOURCE_HASHES) >= _SOURCE_HASHES_MAX:
        _SOURCE_HASHES.clear()
    digest = _hash_source(func)
    _SOURCE_HASHES[id(code)] = (code, digest)
    return digest


def _hash_source(func: Callable[..., Any]) -> str:
    source = function_source(func)
    if source:
        payload = source.encode()
    else:
        code = getattr(func, "__code__", None)
        payload = code.co_code + repr(code.co_consts).encode() if code else repr(func).encode()
    return hashlib.sha256(payload).hexdigest()


def import_code_ref(code_ref: str, task: str) -> Callable[..., Any]:
    """Import ``module:qualname``; a Glacier ``Task`` object gives its plain function.
    Raises ExecutionError naming the task when it cannot be imported or is not callable."""
    module_name, _, qualname = code_ref.partition(":")
    if not module_name or not qualname or "<locals>" in qualname:
        raise ExecutionError(
            f"Task '{task}': code reference {code_ref!r} cannot be imported.",
            task=task,
            fix="define tasks as module-level functions (not inside another function or a lambda).",
        )
    try:
        obj: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except (ImportError, AttributeError) as exc:
        raise ExecutionError(
            f"Task '{task}': cannot import '{code_ref}': {exc}.",
            task=task,
            fix="run from the project root so the pipeline module is importable.",
        ) from None
    func = getattr(obj, "func", obj)  # a Task object wraps the plain function
    if not callable(func):
        raise ExecutionError(f"Task '{task}': '{code_ref}' is not callable.", task=task)
    return func


def dataframe_api(func: Callable[..., Any]) -> Literal["polars", "pyspark"]:
    """'pyspark' when the function is annotated with pyspark types (read as text: pyspark
    need not be installed to define such a task). The DSL records it; the Spark entry point
    asks it again of the function it imports, so both judge a task the same way."""
    try:
        annotations = typing.get_type_hints(func)
    except Exception:  # unresolvable string annotations: judge them by their text
        annotations = dict(getattr(func, "__annotations__", {}))
    module = getattr(func, "__module__", "") or ""
    for annotation in annotations.values():
        text = _annotation_text(annotation)
        if "pyspark" in text:
            return "pyspark"
        # A string left unresolved names what the module imported, perhaps only for type
        # checkers (`if TYPE_CHECKING: from pyspark.sql import DataFrame`); the module's
        # source is parsed only then (most annotations resolve, and parsing costs ms).
        if isinstance(annotation, str) and _head(text) in _pyspark_imports(module):
            return "pyspark"
    return "polars"


def _head(annotation: str) -> str:
    return re.split(r"[\[.| ]", annotation.strip().strip("'\""), maxsplit=1)[0]


@functools.cache
def _pyspark_imports(module_name: str) -> frozenset[str]:
    """Names a module binds to pyspark objects by import (also under TYPE_CHECKING)."""
    module = sys.modules.get(module_name)
    try:
        source = inspect.getsource(module) if module is not None else ""
    except (OSError, TypeError):
        return frozenset()
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pyspark":
            names.update(alias.asname or alias.name for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(
                (alias.asname or alias.name).split(".")[0]
                for alias in node.names
                if alias.name.split(".")[0] == "pyspark"
            )
    return frozenset(names)


def _annotation_text(annotation: Any) -> str:
    if isinstance(annotation, str):
        return annotation
    module = getattr(annotation, "__module__", "") or ""
    return f"{module}.{getattr(annotation, '__qualname__', repr(annotation))}"
