"""Seed 001, composition pattern 2: a named pipeline, visualized and run in the cloud."""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()
lambda_exec = provider.serverless()

raw = provider.bucket("data", "raw.parquet")
intermediate = provider.bucket("data", "intermediate.parquet")
output = provider.bucket("data", "output.parquet")


@local_exec.task()
def extract(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@lambda_exec.task()
def transform(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns((pl.col("value") * 2).alias("doubled"))


pipeline = (
    raw.transform(extract)
    .to(intermediate)
    .transform(transform)
    .to(output)
    .with_name("etl_pipeline", "Extract, transform, load data")
)

if __name__ == "__main__":
    # Visualize
    print(pipeline.visualize())

    # Execute
    pipeline.run(mode="cloud")
