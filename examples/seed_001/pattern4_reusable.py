"""Seed 001, composition pattern 4: reusable bucket references.

Discovery lists ``full_pipeline`` once: ``pipeline1`` and ``pipeline2`` are contained in it.
"""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()


@local_exec.task()
def clean_data(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.drop_nulls()


@local_exec.task()
def aggregate(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("category").agg(pl.col("value").sum())


# Define storage once
raw = provider.bucket("data", "raw.parquet")
clean = provider.bucket("data", "clean.parquet")
output = provider.bucket("data", "output.parquet")

# Multiple pipelines can use the same buckets
pipeline1 = raw.transform(clean_data).to(clean)
pipeline2 = clean.transform(aggregate).to(output)

# Or chain them
full_pipeline = raw.transform(clean_data).to(clean).transform(aggregate).to(output)

if __name__ == "__main__":
    # Execute separately
    pipeline1.run()
    pipeline2.run()
