"""Program-wide deployment choices, and the region and tags every resource of a pipeline
gets from them (pure: no pulumi import)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from glacier.config import WORKER_SIZES, AwsConfig, SparkConfig
from glacier.dag.model import PipelineDAG
from glacier.deploy.timeouts import check_timeouts
from glacier.errors import DeploymentError

DEFAULT_REGION = "us-east-1"
EMR_MAX_WORKER_VCPU = 16  # EMR Serverless worker sizes: 1, 2, 4, 8 or 16 vCPU


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
    """What the cloud cannot run is refused before anything is declared: a task may not wait
    longer than its function can run (``glacier.deploy.timeouts``), a pyspark task needs a
    Spark executor, and a Spark task a worker type its engine offers."""
    check_timeouts(dag)
    for task in dag.tasks:
        config = task.executor.config
        where = f"Task '{task.name}' of pipeline '{dag.name}'"
        if task.dataframe_api == "pyspark" and not isinstance(config, SparkConfig):
            raise DeploymentError(
                f"{where} is written against pyspark.sql.DataFrame but runs on Lambda, which has no Spark.",
                fix=f"declare '{task.name}' on a Spark executor (provider.spark()), or annotate it with "
                "Polars types (pl.LazyFrame) to run it on Lambda.",
            )
        if not isinstance(config, SparkConfig):
            continue
        if config.engine == "glue" and config.worker_type == "G.025X":
            raise DeploymentError(
                f"{where} asks for Glue worker type G.025X, which Glue offers to streaming jobs only; "
                "a Spark (glueetl) job cannot use it.",
                fix=f"give '{task.name}' SparkConfig(worker_type='G.1X') (or larger), or run it on "
                "Lambda if it is that small.",
            )
        if config.engine == "emr-serverless" and WORKER_SIZES[config.worker_type].vcpu > EMR_MAX_WORKER_VCPU:
            raise DeploymentError(
                f"{where} asks for worker type {config.worker_type} "
                f"({WORKER_SIZES[config.worker_type].vcpu} vCPU) on EMR Serverless, whose workers have "
                f"at most {EMR_MAX_WORKER_VCPU} vCPU.",
                fix=f"give '{task.name}' SparkConfig(worker_type='G.4X') or smaller with more workers, "
                "or run it on Glue.",
            )
