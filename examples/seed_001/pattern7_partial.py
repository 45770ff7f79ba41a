"""Seed 001, composition pattern 7: partial pipeline execution.

``partial`` and ``continuation`` are parts of ``full_pipeline``; discovery lists it once.
"""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()


@local_exec.task()
def task1(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@local_exec.task()
def task2(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns((pl.col("value") * 2).alias("doubled"))


@local_exec.task()
def task3(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("category").agg(pl.col("doubled").sum())


# Build full pipeline
raw = provider.bucket("data", "raw.parquet")
int1 = provider.bucket("data", "int1.parquet")
int2 = provider.bucket("data", "int2.parquet")
output = provider.bucket("data", "output.parquet")

full_pipeline = raw.transform(task1).to(int1).transform(task2).to(int2).transform(task3).to(output)

# Execute just the first part
partial = raw.transform(task1).to(int1)

# Later, continue from int1
continuation = int1.transform(task2).to(int2).transform(task3).to(output)

if __name__ == "__main__":
    partial.run()
    continuation.run()
