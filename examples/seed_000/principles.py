"""Seed 000, the snippets of "Design Principles" and "Summary", with the setup they assume.

Each snippet is kept as written; where two snippets would define the same name (both the
first principle and the summary call their pipeline "my_etl"), the summary's copy is named
``my_etl_summary`` so that one module can hold them all. ``Pipeline(name="cleaning")`` and
``Pipeline(name="join")`` only add sources, so they define no steps and discovery skips them.
"""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()

raw_data = provider.bucket(bucket="data", path="raw/data.parquet")
raw = provider.bucket(bucket="data", path="raw/events.parquet")
sales = provider.bucket(bucket="data", path="sales.parquet")
customers = provider.bucket(bucket="data", path="customers.parquet")
intermediate = provider.bucket(bucket="data", path="intermediate.parquet")
output = provider.bucket(bucket="data", path="output/my_etl.parquet")
etl_output = provider.bucket(bucket="data", path="output/etl.parquet")
daily_output = provider.bucket(bucket="data", path="output/daily.parquet")
summary_intermediate = provider.bucket(bucket="data", path="summary/intermediate.parquet")
summary_output = provider.bucket(bucket="data", path="summary/output.parquet")


@local_exec.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@local_exec.task()
def aggregate(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("category").agg(pl.col("value").sum())


@local_exec.task()
def process_data(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns((pl.col("value") * 2).alias("doubled"))


@local_exec.task()
def task1(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.drop_nulls()


@local_exec.task()
def task2(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.unique()


# 1. Pipeline Factory is the Starting Point
pipeline = Pipeline(name="my_etl").source(raw_data).transform(clean).to(output)

# 2. Sources Are Added to Pipeline
cleaning = Pipeline(name="cleaning").source(raw_data)  # Single source
join = Pipeline(name="join").sources(sales_df=sales, customers_df=customers)  # Multiple sources (for joins)

# 3. Transforms Chain Naturally
etl = (
    Pipeline(name="etl")
    .source(raw)
    .transform(clean)  # Apply transformation
    .to(intermediate)  # Write to bucket
    .transform(aggregate)  # Next transform (reads from intermediate)
    .to(etl_output)  # Write to final bucket
)

# 4. No Execution in Definition Script
my_pipeline = Pipeline(name="daily_etl").source(raw_data).transform(process_data).to(daily_output)

# Summary: the pattern
summary = (
    Pipeline(name="my_etl_summary")  # Start with Pipeline factory
    .source(raw)  # or .sources() for multi-source
    .transform(task1)  # Apply transformation
    .to(summary_intermediate)  # Write to bucket
    .transform(task2)  # Apply transformation (reads from intermediate)
    .to(summary_output)  # Write to final bucket
)
