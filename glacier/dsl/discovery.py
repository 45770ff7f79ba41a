"""Find every pipeline a file or module defines, whichever style defined it: module
variables, and what module-level lists, tuples, sets and dicts hold.

A chain contained in a longer one (``step1 = raw.transform(a).to(x)`` and
``full = step1.transform(b).to(y)``) is listed once, as the longer one; an object held in
several places is listed once. Pipelines come out in data order: one that reads what
another writes comes after it. Only the public lineage API of Bucket and Pipeline is used.
"""

from __future__ import annotations

import graphlib
import importlib
import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from glacier.dag.contract import CompiledPipeline, PipelineModule
from glacier.dag.model import DatasetNode, TaskNode, stable_order
from glacier.dag.overlap import check_datasets_apart
from glacier.dsl.bucket import Bucket, PendingTransform
from glacier.dsl.compile import with_shared_schemas
from glacier.dsl.names import slug
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
    if spec is None or spec.loader is None:
        raise DiscoveryError(
            f"'{path}' is not a Python file.", fix="pass the path of a .py file that defines pipelines."
        )
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
    except SystemExit as exc:
        _restore(name, previous)
        raise DiscoveryError(
            f"Pipeline file '{path}' called sys.exit({exc.code!r}) while being imported.",
            fix='keep script code under `if __name__ == "__main__":` so importing the file only '
            "defines pipelines.",
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


Definition = Bucket | Pipeline


def find_pipelines(module: ModuleType) -> tuple[CompiledPipeline, ...]:
    candidates = _candidates(module)
    if not candidates:
        _refuse_stepless(module)
    # Each candidate's steps, collected once. A pipeline left pending fails here, even if a
    # longer chain would otherwise make it redundant.
    entries = [(name, value, frozenset(step.key for step in value.steps())) for name, value in candidates]
    # Largest first (explicitly named first among equals), so any chain contained in a kept
    # one is dropped before it is compiled; then back to definition order.
    ranked = sorted(
        range(len(entries)),
        key=lambda i: (-len(entries[i][2]), entries[i][1].declared_name is None, i),
    )
    kept_ids: list[int] = []
    for i in ranked:
        within = next((k for k in kept_ids if entries[i][2] <= entries[k][2]), None)
        if within is None:
            kept_ids.append(i)
        else:
            _no_lost_triggers(entries[i][:2], entries[within][:2])
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
    _datasets_apart(kept)
    return tuple(with_shared_schemas(_data_order(kept)))


def _no_lost_triggers(dropped: tuple[str, Definition], kept: tuple[str, Definition]) -> None:
    """A chain listed as part of a longer one deploys only as that one: its own triggers
    would silently never fire."""
    (name, value), (kept_name, kept_value) = dropped, kept
    if value.triggers and value.triggers != kept_value.triggers:
        raise DiscoveryError(
            f"Pipeline '{name}' has triggers (.on_schedule/.on_arrival) but is part of the longer "
            f"pipeline '{kept_name}', which is what deploys.",
            fix=f"declare the triggers on '{kept_name}' (the chain's last bucket) instead.",
        )


def _candidates(module: ModuleType) -> list[tuple[str, Definition]]:
    """Every pipeline definition the module holds, each object once, with the name it runs
    under: its declared name, else the module variable's name. Plain variables come first,
    then what module-level lists, tuples, sets and dicts hold (one pipeline per table built
    in a loop), at any depth: an entry of dict ``loads`` under key ``orders`` is named
    ``loads_orders`` (and so on down nested dicts); other entries are named after the
    bucket they end in."""
    found: list[tuple[str, Definition]] = []
    seen: set[int] = set()
    containers: list[tuple[str, Any]] = []
    for var, value in vars(module).items():
        if var.startswith("__"):
            continue
        if isinstance(value, _CONTAINERS):
            containers.append((var, value))
        else:
            _consider(module, var, var, value, found, seen)
    for var, value in containers:
        stack: list[tuple[str, str, Any]] = [(var, var, value)]
        while stack:
            where, name, held = stack.pop()
            if isinstance(held, _CONTAINERS):
                if id(held) in seen:
                    continue
                seen.add(id(held))
                # Reversed onto the stack, so entries come out in their own order.
                stack.extend(reversed(list(_entries(where, name, held))))
            else:
                _consider(module, where, name, held, found, seen)
    return found


_CONTAINERS = (list, tuple, dict, set, frozenset)


def _entries(where: str, name: str, held: Any) -> Iterator[tuple[str, str, Any]]:
    if isinstance(held, dict):
        for key, value in held.items():
            keyed = f"{name}_{slug(key)}" if name and isinstance(key, str) and slug(key) else ""
            yield f"{where}[{key!r}]", keyed, value
    elif isinstance(held, set | frozenset):
        # No order of their own: by the name each would run under.
        for value in sorted(held, key=lambda v: _default_name(v) if isinstance(v, Bucket | Pipeline) else ""):
            yield f"{where}[...]", "", value
    else:
        for index, value in enumerate(held):
            yield f"{where}[{index}]", "", value


def _consider(
    module: ModuleType, where: str, name: str, value: Any, found: list[tuple[str, Definition]], seen: set[int]
) -> None:
    if isinstance(value, PendingTransform):
        raise DefinitionError(
            f"'{where}' in {module.__name__} is a .transform({value.task.name}) never completed by .to().",
            fix=f"finish it: .transform({value.task.name}).to(bucket).",
        )
    if isinstance(value, Bucket | Pipeline) and value.defines_pipeline and id(value) not in seen:
        seen.add(id(value))
        found.append((value.declared_name or name or _default_name(value), value))


def _refuse_stepless(module: ModuleType) -> None:
    """A module whose only pipelines have sources but no steps: name them."""
    stepless = sorted(
        {v.declared_name for v in vars(module).values() if isinstance(v, Pipeline) and v.declared_name}
    )
    if stepless:
        raise DefinitionError(
            f"Pipeline {', '.join(map(repr, stepless))} in {module.__name__} has no steps.",
            fix="add at least one step: .transform(task).to(bucket).",
        )


def _default_name(value: Definition) -> str:
    """Its declared name, else the one ``.run()`` uses (after the bucket it ends in)."""
    try:
        return value.declared_name or value.pipeline_name
    except DefinitionError:  # a pending pipeline with no name: steps() names the problem
        return "pipeline"


def _datasets_apart(pipelines: list[CompiledPipeline]) -> None:
    """Datasets of different pipelines of one module may not overlap either."""
    owners: dict[str, str] = {}
    datasets: dict[str, DatasetNode] = {}
    for pipeline in pipelines:
        for ds in pipeline.dag.datasets:
            owners.setdefault(ds.id, pipeline.name)
            datasets.setdefault(ds.id, ds)
    check_datasets_apart(datasets.values(), owners)


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
