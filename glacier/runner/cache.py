"""The local cache: a task is skipped when its cache key (code, the same-module helpers it
calls, config, input content and locations, output location) equals the key of its last
successful run and that run's output is still there, unchanged."""

from __future__ import annotations

import hashlib
import json
import types
from collections.abc import Callable
from typing import Any

from glacier.code import source_hash
from glacier.dag.model import TaskNode
from glacier.io import StorageOptions, stat_uri
from glacier.runner.history import History, TaskRecord
from glacier.runtime.event import TaskEvent


def helpers_hash(func: Callable[..., Any]) -> str:
    """A hash of the module-level functions ``func`` calls (transitively, same module), so
    editing a helper invalidates the cache of the tasks that use it."""
    digest = hashlib.sha256()
    seen: set[int] = set()
    stack = [getattr(func, "func", func)]
    while stack:
        current = stack.pop()
        code = getattr(current, "__code__", None)
        if code is None or id(current) in seen:
            continue
        seen.add(id(current))
        module_globals = getattr(current, "__globals__", {})
        for name in sorted(_global_names(code)):
            helper = module_globals.get(name)
            same_module = isinstance(helper, types.FunctionType) and helper.__module__ == current.__module__
            if same_module and helper is not current and id(helper) not in seen:
                assert isinstance(helper, types.FunctionType)
                digest.update(name.encode() + source_hash(helper).encode())
                stack.append(helper)
    return digest.hexdigest()


def _global_names(code: types.CodeType) -> set[str]:
    """Every global name a code object (and the code nested in it) refers to."""
    names: set[str] = set()
    codes = [code]
    while codes:
        current = codes.pop()
        names.update(current.co_names)
        codes.extend(const for const in current.co_consts if isinstance(const, types.CodeType))
    return names


def cache_key(task: TaskNode, event: TaskEvent, fingerprints: dict[str, str], helpers: str = "") -> str:
    """Changes when the task's code (or a helper it calls), config, inputs (content or
    location) or output change."""
    payload = {
        "code": task.code_hash,
        "helpers": helpers,
        "config": task.config,
        "api": task.dataframe_api,
        "inputs": {
            param: [loc.uri, loc.format.value, fingerprints[task.inputs[param]]]
            for param, loc in sorted(event.inputs.items())
        },
        "output": [event.output.uri, event.output.format.value],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def cache_hit(
    history: History,
    pipeline: str,
    task: TaskNode,
    event: TaskEvent,
    key: str,
    options: StorageOptions | None,
) -> TaskRecord | None:
    """The last successful run of ``task`` when it had this key and its output is intact."""
    last = history.last_success(pipeline, task.name)
    if last is None or last.cache_key != key:
        return None
    stored = stat_uri(event.output.uri, event.output.format, options)
    if stored is None or stored.fingerprint != last.output_fingerprint:
        return None  # the output is gone or was changed by someone else
    return last
