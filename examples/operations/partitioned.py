"""Operations with partitions: daily event partitions, summarised one day at a time.

``ops-lake/clicks/`` is hive-partitioned by ``date`` (``clicks/date=2026-11-30/...``);
``daily_clicks`` reads one day's partition and publishes the same day of
``ops-lake/daily_clicks/``, atomically and without touching other days. Deployed, it runs
every morning for that day (the scheduled time's date), and whenever a file lands in a day's
folder for that day (the object key ``clicks/date=2026-11-30/...`` names the partition); a
manual execution names its day in its input (``{"partition": {"date": "2026-11-30"}}``, what
``glacier run --cloud --partition`` sends), and ``glacier backfill --cloud`` runs a range as
one Distributed Map execution.

Locally: ``python examples/operations/generate.py DIR --partitioned`` writes 30 days of
sample clicks, then

    glacier run examples/operations/partitioned.py --data-dir DIR --partition date=2026-11-30
    glacier backfill examples/operations/partitioned.py --data-dir DIR --from 2026-11-01 --to 2026-11-30

run one day, then the month (days already done with unchanged inputs are skipped). Importing
this module reads and writes nothing.
"""

from __future__ import annotations

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig, LambdaConfig

provider = Provider(config=AwsConfig(region="eu-west-1", tags={"project": "glacier-operations"}))
lambda_exec = provider.serverless(config=LambdaConfig(memory=1024, timeout=120))

clicks = provider.bucket(
    "ops-lake",
    "clicks/",
    partition_by=["date"],
    schema={"date": pl.Date, "user_id": pl.Int64, "kind": pl.String},
)
daily = provider.bucket("ops-lake", "daily_clicks/", partition_by=["date"])


@lambda_exec.task(cache=True)
def count_clicks(clicks: pl.LazyFrame) -> pl.LazyFrame:
    """One day's clicks per kind (the day's ``date`` column comes from its partition)."""
    return clicks.group_by("date", "kind").agg(
        pl.len().alias("clicks"), pl.col("user_id").n_unique().alias("users")
    )


daily_clicks = (
    clicks.transform(count_clicks)
    .to(daily)
    .with_name("daily_clicks")
    .on_schedule("cron(0 23 * * ? *)")
    .on_arrival(clicks)
)
