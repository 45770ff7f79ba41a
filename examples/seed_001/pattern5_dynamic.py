"""Seed 001, composition pattern 5: a pipeline built in a loop from tasks and buckets."""

import polars as pl

from glacier import Bucket, Provider, Task
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


def build_pipeline(tasks: list[Task], buckets: list[Bucket]) -> Bucket:
    """Build a pipeline from a list of tasks and buckets."""
    pipeline = buckets[0]  # Start with first bucket

    for task, target_bucket in zip(tasks, buckets[1:], strict=False):
        pipeline = pipeline.transform(task).to(target_bucket)

    return pipeline


# Define buckets
buckets = [
    provider.bucket("data", "raw.parquet"),
    provider.bucket("data", "step1.parquet"),
    provider.bucket("data", "step2.parquet"),
    provider.bucket("data", "output.parquet"),
]

# Build and run
pipeline = build_pipeline([task1, task2, task3], buckets)

if __name__ == "__main__":
    pipeline.run()
