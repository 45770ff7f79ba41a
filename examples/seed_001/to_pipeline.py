"""Seed 001, "Pipeline as First-Class Objects": ``bucket.to_pipeline()``."""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()

raw = provider.bucket("data", "raw.parquet")
output = provider.bucket("data", "output.parquet")


@local_exec.task()
def process(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value") > 0)


# Bucket-based (recommended)
pipeline_bucket = raw.transform(process).to(output).with_name("etl")

# Convert to explicit Pipeline object if needed
pipeline_obj = pipeline_bucket.to_pipeline()

if __name__ == "__main__":
    print(type(pipeline_obj))  # Pipeline

    # Both work the same for execution/generation
    pipeline_bucket.run(mode="generate")
    pipeline_obj.run(mode="generate")
