"""Seed 001, composition pattern "4. Conditional Pipelines" (the seed numbers it 4 twice)."""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()


@local_exec.task()
def extract(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@local_exec.task()
def full_process(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("category").agg(pl.col("value").sum())


@local_exec.task()
def quick_process(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.head(1000)


def build_pipeline(mode: str):  # type: ignore[no-untyped-def]
    raw = provider.bucket("data", "raw.parquet")
    output = provider.bucket("data", "output.parquet")

    if mode == "full":
        intermediate = provider.bucket("data", "intermediate.parquet")
        return raw.transform(extract).to(intermediate).transform(full_process).to(output)
    else:
        # Skip intermediate processing
        return raw.transform(quick_process).to(output)


pipeline = build_pipeline(mode="full")

if __name__ == "__main__":
    pipeline.run()
