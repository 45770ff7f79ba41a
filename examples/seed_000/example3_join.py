"""Seed 000, "Example 3: Join Pipeline": three pipelines that meet through their buckets."""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, SparkConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()
spark_exec = provider.spark(config=SparkConfig(workers=3))

# Multi-source join

sales = provider.bucket("data", "sales.parquet")
customers = provider.bucket("data", "customers.parquet")
products = provider.bucket("data", "products.parquet")
joined1 = provider.bucket("data", "joined1.parquet")
joined2 = provider.bucket("data", "joined2.parquet")
output = provider.bucket("data", "output.parquet")


@spark_exec.task()
def join_sales_customers(sales_df, customers_df):
    return sales_df.join(customers_df, on="customer_id")


@spark_exec.task()
def join_products(df, products_df):
    return df.join(products_df, on="product_id")


@local_exec.task()
def summarize(df):
    return df.group_by("region").agg(pl.col("amount").sum())


# First join
step1 = (
    Pipeline(name="join_step1")
    .sources(sales_df=sales, customers_df=customers)
    .transform(join_sales_customers)
    .to(joined1)
)

# Second join
step2 = (
    Pipeline(name="join_step2").sources(df=joined1, products_df=products).transform(join_products).to(joined2)
)

# Summarize
step3 = Pipeline(name="summarize").source(joined2).transform(summarize).to(output)
