"""Seed 001, "Naming Pipelines": unnamed (named after the output path) and ``.with_name()``."""

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


# Unnamed - uses bucket path as default
pipeline = raw.transform(process).to(output)
default_name = pipeline.pipeline_name  # "pipeline_output_parquet"

# Named - explicit pipeline name
pipeline = raw.transform(process).to(output).with_name("my_etl", "Daily ETL process")

if __name__ == "__main__":
    # Access metadata
    print(pipeline._metadata["name"])  # "my_etl"
