"""The Pulumi program: deploy every pipeline of the named modules, one component each, the
managed data buckets they use, once, and the code artifacts (bucket, layers) once per region.

``pulumi_programs/__main__.py`` calls ``declare`` with the modules named in Pulumi config;
``glacier plan`` calls the same function under Pulumi's mocks. Both pass the loader that
turns a module into pipelines (``glacier.dsl.load_pipelines``): the deploy code never
imports the definition layer itself.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi

from glacier.dag.contract import CompiledPipeline, PipelineLoader
from glacier.deploy.buckets import DATA_BUCKETS_NAME, DataBuckets, DataBucketsArgs
from glacier.deploy.component import PipelineDeployment, PipelineDeploymentArgs
from glacier.deploy.options import DeployOptions, check_cloud_runnable, deploy_region
from glacier.deploy.program_artifacts import ProgramArtifacts, ProgramArtifactsArgs, artifacts_name
from glacier.deploy.unique_names import check_unique_names
from glacier.errors import DeploymentError, DiscoveryError


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
        retain_data_buckets=config.get_bool("retainDataBuckets") is not False,
        artifacts_noncurrent_days=config.get_int("artifactsNoncurrentDays") or 7,
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


def declare(config: ProgramConfig, loader: PipelineLoader) -> dict[str, Any]:
    """Declare the data buckets, then one component per selected pipeline; returns the
    stack outputs per pipeline."""
    loaded = [p for module in config.modules for p in loader(module.strip()).pipelines]
    chosen = _select(config, loaded)
    dags = [p.dag for p in chosen]
    for dag in dags:  # before declaring anything
        check_cloud_runnable(dag)
    check_unique_names(dags, config.options)
    buckets = DataBucketsArgs.for_pipelines(dags, config.options, known=[p.dag for p in loaded])
    shared = DataBuckets(DATA_BUCKETS_NAME, buckets).buckets if buckets.buckets else {}
    artifacts = {
        args.region: ProgramArtifacts(artifacts_name(args.region), args)
        for args in ProgramArtifactsArgs.for_pipelines(dags, config.options)
    }
    components = [
        PipelineDeployment(
            p.name,
            PipelineDeploymentArgs(
                pipeline=p,
                options=config.options,
                data_buckets=shared,
                artifacts=artifacts[deploy_region(p.dag, config.options)],
            ),
        )
        for p in chosen
    ]
    return {component.dag.name: component.outputs() for component in components}


def _select(config: ProgramConfig, loaded: list[CompiledPipeline]) -> list[CompiledPipeline]:
    """The pipelines to deploy: those named in ``select`` (all when it is empty), each once."""
    chosen = [p for p in loaded if not config.select or p.name in config.select]
    found = {p.name for p in chosen}
    unknown = [name for name in config.select if name not in found]
    if unknown:
        available = ", ".join(p.name for p in loaded) or "none"
        raise DiscoveryError(
            f"No pipeline named {', '.join(map(repr, unknown))} in {', '.join(config.modules)}.",
            fix=f"choose among: {available}.",
        )
    if not chosen:
        raise DiscoveryError(
            f"No pipelines found in {', '.join(config.modules)}.",
            fix="name modules that define pipelines in 'glacier:pipelines'.",
        )
    names = [p.name for p in chosen]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DeploymentError(
            f"Two pipelines to deploy are named {', '.join(map(repr, duplicated))}.",
            fix="give each pipeline a unique name (Pipeline(name=...) or .with_name(...)).",
        )
    return chosen
