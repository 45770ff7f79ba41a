"""Seed 000, "Core Pattern: Multi-Source Pipeline (Joins)" (setup "same as above", plus the
spark executor the example uses)."""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, SparkConfig

# Setup (same as above)
provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()
spark_exec = provider.spark(config=SparkConfig(workers=3))

# Define storage
sales = provider.bucket(bucket="data", path="sales.parquet")
customers = provider.bucket(bucket="data", path="customers.parquet")
joined = provider.bucket(bucket="data", path="joined.parquet")
summary = provider.bucket(bucket="data", path="summary.parquet")


# Define multi-source task
@spark_exec.task()
def join_data(sales_df: pl.LazyFrame, customers_df: pl.LazyFrame) -> pl.LazyFrame:
    """
    Parameter names must match .sources() kwargs!
    """
    return sales_df.join(customers_df, on="customer_id")


@local_exec.task()
def summarize(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("region").agg(pl.col("amount").sum())


# Build multi-source pipeline
join_pipeline = (
    Pipeline(name="sales_join")
    .sources(sales_df=sales, customers_df=customers)  # Multi-source
    .transform(join_data)  # Join
    .to(joined)  # Write
    .transform(summarize)  # Single-source from here
    .to(summary)  # Final output
)
