"""Seed 001, composition pattern 1: a sequential pipeline (task bodies filled in)."""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()
lambda_exec = provider.serverless()

# Define storage (all equal)
raw = provider.bucket(bucket="data", path="raw.parquet")
intermediate1 = provider.bucket(bucket="data", path="int1.parquet")
intermediate2 = provider.bucket(bucket="data", path="int2.parquet")
output = provider.bucket(bucket="data", path="output.parquet")


# Define tasks
@local_exec.task()
def extract(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@lambda_exec.task()
def transform(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns((pl.col("value") * 2).alias("doubled"))


@local_exec.task()
def aggregate(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("category").agg(pl.col("doubled").sum())


# Chain buckets
pipeline = (
    raw.transform(extract)
    .to(intermediate1)
    .transform(transform)
    .to(intermediate2)
    .transform(aggregate)
    .to(output)
)

if __name__ == "__main__":
    result = pipeline.run()
    print(result)
