"""The Pulumi program: deploy every pipeline of the named modules, one component each.

``pulumi_programs/__main__.py`` calls ``declare`` with the modules named in Pulumi config;
``glacier plan`` calls the same function under Pulumi's mocks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from glacier.deploy.component import DeployOptions, DeployTarget, deploy_pipelines
from glacier.dsl.discovery import load_pipelines
from glacier.errors import DiscoveryError


@dataclass(frozen=True)
class ProgramConfig:
    modules: tuple[str, ...]
    select: tuple[str, ...] = ()  # only these pipelines (all when empty)
    options: DeployOptions = field(default_factory=DeployOptions)


def read_config() -> ProgramConfig:
    """The program's settings from the stack's Pulumi config (namespace ``glacier``)."""
    config = pulumi.Config("glacier")
    modules = _names(config.get("pipelines"))
    if not modules:
        raise DiscoveryError(
            "Pulumi config 'glacier:pipelines' is not set.",
            fix="run: pulumi config set --path 'glacier:pipelines[0]' pipelines.py",
        )
    options = DeployOptions(
        region=config.get("region"),
        artifacts_prefix=config.get("artifactsPrefix"),
        build_layer=config.get_bool("buildLayer") is not False,
        log_retention_days=config.get_int("logRetentionDays") or 30,
        schedule=config.get("schedule"),
    )
    root = _project_root()
    modules = tuple(_from_root(m, root) for m in modules)
    return ProgramConfig(modules=modules, select=_names(config.get("select")), options=options)


def _project_root() -> Path | None:
    try:
        root = pulumi.get_root_directory()
    except AttributeError:  # older SDKs
        return None
    return Path(root) if root else None


def _from_root(module: str, root: Path | None) -> str:
    """A relative file path in config is relative to Pulumi.yaml, wherever the program runs."""
    path = Path(module)
    if root is None or path.is_absolute() or not (module.endswith(".py") or "/" in module):
        return module
    return str(root / path)


def _names(raw: str | None) -> tuple[str, ...]:
    """A config value holding a JSON list of names, or one name, or names separated by commas."""
    if not raw:
        return ()
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw.split(",")
    values = value if isinstance(value, list) else [value]
    return tuple(str(v).strip() for v in values if str(v).strip())


def declare(config: ProgramConfig) -> dict[str, Any]:
    """Declare one component per pipeline found; returns the stack outputs per pipeline."""
    targets: list[DeployTarget] = []
    available: list[str] = []
    for module_name in config.modules:
        module = load_pipelines(module_name.strip())
        available.extend(p.name for p in module.pipelines)
        chosen = [p for p in module.pipelines if not config.select or p.name in config.select]
        for compiled in chosen:
            targets.append(DeployTarget(compiled.dag, compiled.functions, module.root))
    found = {t.dag.name for t in targets}
    unknown = [name for name in config.select if name not in found]
    if unknown:
        raise DiscoveryError(
            f"No pipeline named {', '.join(map(repr, unknown))} in {', '.join(config.modules)}.",
            fix=f"choose among: {', '.join(available) or 'none'}.",
        )
    if not targets:
        raise DiscoveryError(
            f"No pipelines found in {', '.join(config.modules)}.",
            fix="name modules that define pipelines in 'glacier:pipelines'.",
        )
    components = deploy_pipelines(targets, options=config.options)
    return {component.dag.name: component.outputs() for component in components}
