"""The local cache: a task is skipped when its cache key (code and everything it can reach,
config, input content identity and locations, output location) equals the key of its last
successful run and that run's output is still there, unchanged (docs/cache.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from glacier.dag.model import TaskNode
from glacier.dag.partitions import partition_label
from glacier.formats import Format
from glacier.io import StorageOptions, StoredDataset, stat_uri
from glacier.runner.code_fingerprint import task_fingerprint
from glacier.runner.history import History, TaskRecord
from glacier.runtime.event import TaskEvent


def helpers_hash(func: Callable[..., Any], task: str) -> str | None:
    """The fingerprint of everything ``func`` can reach (functions, classes, globals, closure
    cells, project modules; libraries by version), or None when some reachable value cannot
    be hashed stably: the cache is then off for this task (a warning says why)."""
    return task_fingerprint(func, task)


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
    identify: Callable[[str, Format, StoredDataset], str],
) -> TaskRecord | None:
    """The last successful run of ``task`` when it had this key and its output is intact
    (same content identity as when it was written)."""
    last = history.last_success(pipeline, task.name, partition_label(event.partition))
    if last is None or last.cache_key != key:
        return None
    stored = stat_uri(event.output.uri, event.output.format, options)
    if stored is None or identify(event.output.uri, event.output.format, stored) != last.output_fingerprint:
        return None  # the output is gone or was changed by someone else
    return last
