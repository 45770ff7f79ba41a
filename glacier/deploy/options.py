"""Program-wide deployment choices, and the region and tags every resource of a pipeline
gets from them (pure: no pulumi import)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from glacier.config import AwsConfig
from glacier.dag.model import PipelineDAG
from glacier.deploy.timeouts import check_timeouts
from glacier.errors import DeploymentError

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class DeployOptions:
    """Program-wide choices (from Pulumi config) that are not part of the pipeline itself."""

    region: str | None = None  # default: the pipeline's AwsConfig region, else us-east-1
    artifacts_prefix: str | None = None  # prefix for artifacts bucket names (global namespace)
    build_layer: bool = True  # False: name the layer by its key without building it (plan)
    log_retention_days: int = 30
    retain_data_buckets: bool = True  # data buckets stay in the account on pulumi destroy
    artifacts_noncurrent_days: int = 7  # old versions of code bundles and layer zips
    schedule: str | None = None  # an EventBridge Scheduler expression, e.g. "rate(1 day)"
    alerts: bool | None = None  # failure alerts; None: on when a pipeline runs unattended
    alert_email: str | None = None  # subscribed to the alert topic
    # A backfill execution (its Distributed Map): partitions running at once, and how many
    # (or what percentage) may fail with the backfill still succeeding.
    backfill_max_concurrency: int = 10
    backfill_tolerated_failures: int = 0
    backfill_tolerated_failure_percent: float | None = None
    tags: Mapping[str, str] = field(default_factory=dict)


def deploy_region(dag: PipelineDAG, options: DeployOptions) -> str:
    """Where a pipeline deploys: the program's region, else its AwsConfig's, else us-east-1."""
    storage_region = dag.storage.region if isinstance(dag.storage, AwsConfig) else DEFAULT_REGION
    return options.region or storage_region


def deploy_tags(dag: PipelineDAG, options: DeployOptions) -> dict[str, str]:
    """The storage config's tags, then the program's (which win)."""
    storage_tags = dag.storage.tags if isinstance(dag.storage, AwsConfig) else {}
    return {**storage_tags, **options.tags}


def check_cloud_runnable(dag: PipelineDAG) -> None:
    """The cloud runs every task through the Polars core (Lambda, or Polars on a Glue / EMR
    job's driver); a task written against the pyspark API runs only on local Spark. A task
    may not wait longer than its function can run (``glacier.deploy.timeouts``)."""
    check_timeouts(dag)
    for task in dag.tasks:
        if task.dataframe_api == "pyspark":
            raise DeploymentError(
                f"Task '{task.name}' of pipeline '{dag.name}' is written against pyspark.sql.DataFrame, "
                "which runs on local Spark only; deployed Spark tasks run with Polars.",
                fix=f"annotate '{task.name}' with Polars types (pl.LazyFrame) to deploy it, or keep the "
                "pipeline local.",
            )
