"""Seed 001, "Multi-Source Pipelines": a named multi-source pipeline returns a Bucket."""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()

sales = provider.bucket("data", "sales.parquet")
customers = provider.bucket("data", "customers.parquet")
joined = provider.bucket("data", "joined.parquet")


@local_exec.task()
def join_task(sales: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    return sales.join(customers, on="customer_id", how="left")


# Multi-source pipeline
join_pipeline = (
    Pipeline(sales=sales, customers=customers).transform(join_task).to(joined).with_name("sales_join")
)

if __name__ == "__main__":
    # join_pipeline is a Bucket with a multi-source step in its lineage
    join_pipeline.run(mode="generate")
