"""Seed 001, "Multi-Source Example (Joins)": a multi-source start, then single-source chaining."""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, SparkConfig

# 1. Setup
provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()
spark_exec = provider.spark(config=SparkConfig(workers=3))

# 2. Define storage
sales = provider.bucket(bucket="data", path="sales.parquet")
customers = provider.bucket(bucket="data", path="customers.parquet")
joined = provider.bucket(bucket="data", path="joined.parquet")
output = provider.bucket(bucket="data", path="output.parquet")


# 3. Define multi-source task
@spark_exec.task()
def join_data(sales_df: pl.LazyFrame, customers_df: pl.LazyFrame) -> pl.LazyFrame:
    """Join sales with customer data."""
    return sales_df.join(customers_df, on="customer_id", how="left")


@local_exec.task()
def aggregate(df: pl.LazyFrame) -> pl.LazyFrame:
    """Aggregate by region."""
    return df.group_by("region").agg(pl.col("revenue").sum())


# 4. Build pipeline: multi-source -> single-source chaining
pipeline = (
    Pipeline(sales_df=sales, customers_df=customers)  # Multi-source start
    .transform(join_data)  # Uses both sources
    .to(joined)  # Returns Bucket
    .transform(aggregate)  # Single-source (reads joined)
    .to(output)  # Returns Bucket
)

if __name__ == "__main__":
    # 5. Execute (on the deployed state machine)
    result = pipeline.run(mode="cloud")
    print(result)
