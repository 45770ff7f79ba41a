"""Seed 001, "Design Principles" 1-4: storage is the unit; buckets chain; lineage; single- vs
multi-source. Variables are named after the principle so one module holds them all; the
output paths differ so that no two pipelines write one dataset."""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()


@local_exec.task()
def extract(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("value").is_not_null())


@local_exec.task()
def transform(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns((pl.col("value") * 2).alias("doubled"))


@local_exec.task()
def join_task(sales: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    return sales.join(customers, on="customer_id", how="left")


@local_exec.task()
def aggregate(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("region").agg(pl.col("revenue").sum())


# 1. Storage is the Fundamental Unit: all of these are just Bucket objects
raw_data = provider.bucket(bucket="data", path="raw.parquet")
intermediate = provider.bucket(bucket="data", path="intermediate.parquet")
output = provider.bucket(bucket="data", path="output.parquet")

# Chain them directly - start with any bucket
pipeline = (
    raw_data.transform(extract)  # Bucket  # PendingTransform
    .to(intermediate)  # Bucket (with lineage)
    .transform(transform)  # PendingTransform
    .to(output)  # Bucket (with lineage)
)

# 2. Buckets Are Chainable: bucket.transform(task) is a PendingTransform, and .to() turns it
# into the target bucket with lineage. (A module-level PendingTransform left as it is would be
# reported by discovery as unfinished, so the two calls stay in one expression here.)
completed = raw_data.transform(extract).to(intermediate)

# 3. Lineage Tracking: the output bucket knows both steps
lineage_steps = [step.task.name for step in pipeline._lineage]  # ["extract", "transform"]

# 4. Single-Source vs Multi-Source
sales_bucket = provider.bucket(bucket="data", path="sales.parquet")
customers_bucket = provider.bucket(bucket="data", path="customers.parquet")
joined_output = provider.bucket(bucket="data", path="joined_output.parquet")
joined = provider.bucket(bucket="data", path="joined.parquet")
region_output = provider.bucket(bucket="data", path="region_output.parquet")

# Multi-source - use Pipeline factory
multi = Pipeline(sales=sales_bucket, customers=customers_bucket).transform(join_task).to(joined_output)

# Pipeline.to() returns a Bucket, so you can continue chaining
continued = (
    Pipeline(sales=sales_bucket, customers=customers_bucket)
    .transform(join_task)
    .to(joined)  # Returns Bucket
    .transform(aggregate)  # Back to single-source chaining
    .to(region_output)
)

if __name__ == "__main__":
    # Execute
    pipeline.run()
