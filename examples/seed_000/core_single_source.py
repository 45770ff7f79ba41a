"""Seed 000, "Core Pattern: Single-Source Pipeline", as written (imports added)."""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

# 1. Setup
provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()
lambda_exec = provider.serverless()

# 2. Define storage
raw_data = provider.bucket(bucket="data-lake", path="raw/data.parquet")
cleaned = provider.bucket(bucket="data-lake", path="processed/cleaned.parquet")
output = provider.bucket(bucket="data-lake", path="output/result.parquet")


# 3. Define tasks
@local_exec.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@lambda_exec.task()
def aggregate(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("category").agg(pl.col("value").sum())


# 4. Build pipeline - START WITH Pipeline()
etl_pipeline = (
    Pipeline(name="etl_pipeline")
    .source(raw_data)
    .transform(clean)
    .to(cleaned)
    .transform(aggregate)
    .to(output)
)

# etl_pipeline is a Pipeline object for code generation
