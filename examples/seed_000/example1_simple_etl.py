"""Seed 000, "Example 1: Simple ETL" (pipelines.py), with the AwsConfig import added."""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

# Setup
provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()

# Storage
raw = provider.bucket("data", "raw.parquet")
output = provider.bucket("data", "output.parquet")


# Task
@local_exec.task()
def process(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value") > 0)


# Pipeline
simple_etl = Pipeline(name="simple_etl").source(raw).transform(process).to(output)
