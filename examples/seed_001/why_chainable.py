"""Seed 001, "Comparison: Before vs After": the same pipeline in both styles.

Both spellings build the same steps, so discovery lists the pipeline once, under the name the
factory gives it ("etl").
"""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()

raw_data = provider.bucket("data", "raw.parquet")
intermediate = provider.bucket("data", "intermediate.parquet")
output = provider.bucket("data", "output.parquet")


@local_exec.task()
def extract(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@local_exec.task()
def transform(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns((pl.col("value") * 2).alias("doubled"))


# Before (Pipeline factory)
before = (
    Pipeline(name="etl")  # Factory object (why?)
    .source(raw_data)  # Special-case "source"
    .transform(extract)
    .to(intermediate)  # Regular storage
    .transform(transform)
    .to(output)  # Regular storage
)

# After (Chainable storage)
after = (
    raw_data.transform(extract)  # Just a bucket
    .to(intermediate)  # Just a bucket
    .transform(transform)
    .to(output)  # Just a bucket
)
