"""Seed 001, "Why This Works for Code Generation": the ``pipelines.py`` the generator loads.

``process`` is ``...`` in the seed; it gets a one-line Polars body here so the file runs.
"""

import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()

# Define storage
raw = provider.bucket("data", "raw.parquet")
output = provider.bucket("data", "output.parquet")


# Define task
@local_exec.task()
def process(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value") > 0)


# Define pipeline
my_pipeline = raw.transform(process).to(output).with_name("my_pipeline")
