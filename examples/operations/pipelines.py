"""Operations: pipelines that start on their own and say when they fail.

``ingest`` runs whenever a file lands in the landing bucket's ``events/`` folder (S3 sends
``Object Created`` to EventBridge, whose rule starts the state machine with the object's
bucket and key); ``daily_report`` runs every morning at 06:00 Paris time. Both deploy with a
failure alert: an SNS topic fed by failed, timed-out or aborted executions, plus a CloudWatch
alarm per state machine (``pulumi config set glacier:alertEmail you@example.com`` subscribes
an address).

Locally: ``python examples/operations/generate.py DIR`` writes sample data, then
``glacier run examples/operations/pipelines.py --data-dir DIR`` runs both (triggers only
matter once deployed). Importing this module reads and writes nothing.
"""

from __future__ import annotations

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, LambdaConfig

provider = Provider(config=AwsConfig(region="eu-west-1", tags={"project": "glacier-operations"}))
lambda_exec = provider.serverless(config=LambdaConfig(memory=1024, timeout=120))

landing = provider.bucket("ops-landing", "events/")
events = provider.bucket("ops-lake", "events.parquet")
report = provider.bucket("ops-lake", "reports/daily_counts.parquet")


@lambda_exec.task(retries=2)
def load_events(df: pl.LazyFrame) -> pl.LazyFrame:
    """Keep well-formed events, typed."""
    return df.filter(pl.col("user_id").is_not_null()).with_columns(
        day=pl.col("ts").str.to_datetime().dt.date()
    )


@lambda_exec.task()
def count_per_day(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("day", "kind").agg(events=pl.len()).sort("day", "kind")


ingest = Pipeline(name="ingest").source(landing).transform(load_events).to(events).on_arrival(landing)

daily_report = (
    Pipeline(name="daily_report")
    .source(events)
    .transform(count_per_day)
    .to(report)
    .on_schedule("cron(0 6 * * ? *)", timezone="Europe/Paris")
)
