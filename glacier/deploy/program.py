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
from glacier.dag.model import PipelineDAG
from glacier.dag.triggers import check_schedule_expression
from glacier.deploy.alerts import ALERTS_NAME, OUTPUT_KEY, Alerts, AlertsArgs, alerts_wanted
from glacier.deploy.buckets import DATA_BUCKETS_NAME, DataBuckets, DataBucketsArgs
from glacier.deploy.catalog import DATA_CATALOG_NAME, CatalogDeclaration, DataCatalog
from glacier.deploy.component import PipelineDeployment, PipelineDeploymentArgs, catalog_specs
from glacier.deploy.options import DeployOptions, check_cloud_runnable, deploy_region, deploy_tags
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
        alerts=config.get_bool("alerts"),
        alert_email=config.get("alertEmail"),
        backfill_max_concurrency=config.get_int("backfillMaxConcurrency") or 10,
        backfill_tolerated_failures=config.get_int("backfillToleratedFailures") or 0,
        backfill_tolerated_failure_percent=config.get_float("backfillToleratedFailurePercent"),
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
    """Declare the data buckets, then one component per selected pipeline, then the failure
    alerts when wanted; returns the stack outputs per pipeline (and the alerts' under
    ``glacier:alerts``)."""
    loaded = [p for module in config.modules for p in loader(module.strip()).pipelines]
    chosen = _select(config, loaded)
    dags = [p.dag for p in chosen]
    for dag in dags:  # before declaring anything
        check_cloud_runnable(dag)
    if config.options.schedule:
        check_schedule_expression(config.options.schedule)
    check_unique_names(dags, config.options)
    buckets = DataBucketsArgs.for_pipelines(dags, config.options, known=[p.dag for p in loaded])
    shared = DataBuckets(DATA_BUCKETS_NAME, buckets).buckets if buckets.buckets else {}
    artifacts = {
        args.region: ProgramArtifacts(artifacts_name(args.region), args)
        for args in ProgramArtifactsArgs.for_pipelines(dags, config.options)
    }
    catalog = _catalog(chosen, config.options)
    tables: dict[str, pulumi.Resource] = {}  # dataset id -> its one table, across components
    components = [
        PipelineDeployment(
            p.name,
            PipelineDeploymentArgs(
                pipeline=p,
                options=config.options,
                data_buckets=shared,
                catalog=catalog,
                catalog_tables=tables,
                artifacts=artifacts[deploy_region(p.dag, config.options)],
            ),
        )
        for p in chosen
    ]
    outputs: dict[str, Any] = {component.dag.name: component.outputs() for component in components}
    if alerts_wanted(config.options, dags):
        machines = {c.dag.name: (c.region, c.state_machine.arn) for c in components}
        # A backfill that fails (more partitions than tolerated) notifies as well.
        machines |= {
            f"{c.dag.name}-backfill": (c.region, c.backfill_state_machine.arn)
            for c in components
            if c.backfill_state_machine is not None
        }
        alerts = Alerts(ALERTS_NAME, AlertsArgs.for_components(machines, config.options))
        outputs[OUTPUT_KEY] = alerts.outputs()
    return outputs


def _catalog(chosen: list[CompiledPipeline], options: DeployOptions) -> CatalogDeclaration | None:
    """The program's one Glue database, when some dataset has a schema (else none at all:
    a program without schemas declares exactly what it did before)."""
    with_schema = [p.dag for p in chosen if catalog_specs(p.dag)]
    if not with_schema:
        return None
    region = one_catalog_region(with_schema, options)
    tags = deploy_tags(with_schema[0], options)
    return DataCatalog(DATA_CATALOG_NAME, pulumi.get_project(), region=region, tags=tags).declaration


def one_catalog_region(dags: list[PipelineDAG], options: DeployOptions) -> str:
    regions = {dag.name: deploy_region(dag, options) for dag in dags}
    if len(set(regions.values())) > 1:
        listed = ", ".join(f"'{p}' in {r}" for p, r in sorted(regions.items()))
        raise DeploymentError(
            f"Pipelines with schemas deploy to different regions ({listed}), but a program has one "
            "Glue Data Catalog database.",
            fix="deploy them from one AwsConfig region, or set glacier:region for the stack.",
        )
    return next(iter(regions.values()))


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
