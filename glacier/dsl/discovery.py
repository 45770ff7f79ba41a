"""Find every pipeline a file or module defines, whichever style defined it.

A chain contained in a longer one (``step1 = raw.transform(a).to(x)`` and
``full = step1.transform(b).to(y)``) is listed once, as the longer one. Pipelines come out
in data order: one that reads what another writes comes after it.
"""

from __future__ import annotations

import graphlib
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from glacier.dag.contract import CompiledPipeline, PipelineModule
from glacier.dag.model import TaskNode, stable_order
from glacier.dsl.bucket import Bucket, PendingTransform
from glacier.dsl.pipeline import Pipeline
from glacier.errors import DefinitionError, DiscoveryError, GlacierError, GraphError


def load_pipelines(target: str | Path | ModuleType) -> PipelineModule:
    module, root = _load(target)
    pipelines = tuple(p.with_root(root) for p in find_pipelines(module))
    file = Path(module.__file__).resolve() if module.__file__ else None
    return PipelineModule(module_name=module.__name__, root=root, file=file, pipelines=pipelines)


def _load(target: str | Path | ModuleType) -> tuple[ModuleType, Path]:
    if isinstance(target, ModuleType):
        file = getattr(target, "__file__", None)
        return target, _root_for(Path(file).resolve(), target.__name__) if file else Path.cwd()
    text = str(target)
    path = Path(text)
    if path.suffix == ".py" or path.exists():
        return _load_file(path)
    try:
        module = importlib.import_module(text)
    except ImportError as exc:
        raise DiscoveryError(
            f"Could not import pipeline module '{text}': {exc}.",
            fix="pass a path to a .py file, or a module importable from the current directory.",
        ) from None
    file = getattr(module, "__file__", None)
    return module, _root_for(Path(file).resolve(), text) if file else Path.cwd()


def _load_file(path: Path) -> tuple[ModuleType, Path]:
    if path.is_dir():
        path = path / "__init__.py" if (path / "__init__.py").exists() else path / "pipelines.py"
    if not path.is_file():
        raise DiscoveryError(
            f"Pipeline file '{path}' does not exist.",
            fix="pass the path of a Python file that defines pipelines.",
        )
    path = path.resolve()
    name = _module_name(path)
    root = _root_for(path, name)
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    # Execute the file afresh each time (it may have changed) under its importable name, so
    # that code references ("module:qualname") resolve the same way in the cloud runtime.
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    previous = sys.modules.get(name)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except GlacierError:
        _restore(name, previous)
        raise
    except SyntaxError as exc:
        _restore(name, previous)
        raise DiscoveryError(
            f"Pipeline file '{path}' has a syntax error at line {exc.lineno}: {exc.msg}.",
            fix="correct the syntax and try again.",
        ) from None
    except Exception as exc:
        _restore(name, previous)
        raise DiscoveryError(
            f"Pipeline file '{path}' failed to load: {type(exc).__name__}: {exc}.",
            fix="a pipeline file should only define buckets, tasks and pipelines; fix the error "
            "it raises when imported.",
        ) from None
    return module, root


def _restore(name: str, previous: ModuleType | None) -> None:
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


def _module_name(path: Path) -> str:
    parts = [] if path.stem == "__init__" else [path.stem]
    parent = path.parent
    while (parent / "__init__.py").exists():
        parts.insert(0, parent.name)
        parent = parent.parent
    return ".".join(parts)


def _root_for(path: Path, module_name: str) -> Path:
    depth = module_name.count(".") + (1 if path.stem == "__init__" else 0)
    root = path.parent
    for _ in range(depth):
        root = root.parent
    return root


def find_pipelines(module: ModuleType) -> tuple[CompiledPipeline, ...]:
    candidates: list[tuple[str, Any]] = []
    seen_objects: set[int] = set()
    for var, value in vars(module).items():
        if var.startswith("__"):
            continue
        if isinstance(value, PendingTransform):
            raise DefinitionError(
                f"'{var}' in {module.__name__} is a .transform({value.task.name}) never completed by .to().",
                fix=f"finish it: .transform({value.task.name}).to(bucket).",
            )
        is_pipeline = isinstance(value, Pipeline) and (value._lineage or value._pending is not None)
        is_chain = isinstance(value, Bucket) and bool(value._own_steps())
        if (is_pipeline or is_chain) and id(value) not in seen_objects:
            seen_objects.add(id(value))
            candidates.append((var, value))

    # Each candidate's steps, collected once. A pipeline left pending fails here, even if a
    # longer chain would otherwise make it redundant.
    entries: list[tuple[str, Any, frozenset[Any], bool]] = []  # name, value, step keys, named
    for var, value in candidates:
        explicit = value.name if isinstance(value, Pipeline) else value._metadata.get("name")
        if isinstance(value, Pipeline) and value._pending is not None:
            value.compile(explicit or var)
        keys = frozenset(step.key for step in value._lineage)
        entries.append((explicit or var, value, keys, bool(explicit)))

    # Largest first (explicitly named first among equals), so any chain contained in a kept
    # one is dropped before it is compiled; then back to definition order.
    ranked = sorted(range(len(entries)), key=lambda i: (-len(entries[i][2]), not entries[i][3], i))
    kept_ids: list[int] = []
    for i in ranked:
        if not any(entries[i][2] <= entries[k][2] for k in kept_ids):
            kept_ids.append(i)
    kept = [entries[i][1].compile(entries[i][0]) for i in sorted(kept_ids)]
    names: dict[str, int] = {}
    for pipeline in kept:
        names[pipeline.name] = names.get(pipeline.name, 0) + 1
    duplicated = sorted(n for n, count in names.items() if count > 1)
    if duplicated:
        raise DiscoveryError(
            f"{module.__name__} defines more than one pipeline named {', '.join(map(repr, duplicated))}.",
            fix="give each pipeline a unique name (Pipeline(name=...) or .with_name(...)).",
        )
    return tuple(_data_order(kept))


def _data_order(pipelines: list[CompiledPipeline]) -> list[CompiledPipeline]:
    writers: dict[str, str] = {}
    steps: dict[str, TaskNode] = {}
    for pipeline in pipelines:
        for task in pipeline.dag.tasks:
            first = steps.setdefault(task.output, task)
            # Two pipelines may share a step (a common prefix); they may not write one dataset
            # in two different ways, or deploying both would race on it.
            if first is not task and first.model_dump(exclude={"name"}) != task.model_dump(exclude={"name"}):
                raise GraphError(
                    f"Pipelines '{writers[task.output]}' (task '{first.name}') and '{pipeline.name}' "
                    f"(task '{task.name}') both write dataset '{task.output}'.",
                    fix="write each dataset from one step only: give one of them another bucket path.",
                )
            writers.setdefault(task.output, pipeline.name)
    position = {p.name: i for i, p in enumerate(pipelines)}
    deps = {
        p.name: {
            writers[ds.id] for ds in p.dag.source_datasets() if ds.id in writers and writers[ds.id] != p.name
        }
        for p in pipelines
    }
    try:
        order = stable_order(deps, key=position.__getitem__)
    except graphlib.CycleError as exc:
        raise GraphError(
            f"Pipelines {' -> '.join(exc.args[1])} read each other's outputs in a cycle.",
            fix="break the cycle so that some pipeline reads only source data.",
        ) from None
    by_name = {p.name: p for p in pipelines}
    return [by_name[n] for n in order]
