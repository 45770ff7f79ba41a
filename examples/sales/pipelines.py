"""The sales demo: orders, customers and products land in a raw bucket; a cleaned and
enriched order table feeds two independent reports (revenue by region and day, and a
partitioned product ranking), which meet again in an executive summary.

Runs locally with ``glacier run examples/sales/pipelines.py --data-dir DIR`` (sample data:
``examples/sales/generate.py``) and deploys to AWS as written (AwsConfig). Importing this
module reads and writes nothing.
"""

from __future__ import annotations

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, LambdaConfig, SparkConfig

provider = Provider(config=AwsConfig(region="us-east-1", tags={"project": "glacier-demo"}))
local_exec = provider.local()
lambda_exec = provider.serverless(config=LambdaConfig(memory=2048, timeout=300))
spark_exec = provider.spark(config=SparkConfig(workers=2))

orders = provider.bucket("sales-raw", "orders.csv")
customers = provider.bucket("sales-raw", "customers.parquet")
products = provider.bucket("sales-raw", "products.ndjson")

enriched = provider.bucket("sales-curated", "orders_enriched.parquet")
daily_revenue = provider.bucket("sales-reports", "daily_revenue_by_region.parquet")
product_ranking = provider.bucket("sales-reports", "product_ranking/")
summary = provider.bucket("sales-reports", "executive_summary.csv")


def net_amount() -> pl.Expr:
    return pl.col("quantity") * pl.col("unit_price") * (1 - pl.col("discount"))


@spark_exec.task(cache=True, retries=2)
def enrich_orders(orders: pl.LazyFrame, customers: pl.LazyFrame, products: pl.LazyFrame) -> pl.LazyFrame:
    """Drop cancelled and malformed orders, then join customers and products."""
    valid = orders.filter(
        (pl.col("status") != "cancelled") & (pl.col("quantity") > 0) & pl.col("customer_id").is_not_null()
    )
    return (
        valid.join(customers, on="customer_id", how="inner")
        .join(products, on="product_id", how="inner")
        .with_columns(
            order_date=pl.col("order_ts").str.to_datetime().dt.date(),
            net_amount=net_amount(),
        )
    )


@lambda_exec.task(timeout=240)  # within its function's 300 s (LambdaConfig above)
def revenue_by_region_and_day(df: pl.LazyFrame) -> pl.LazyFrame:
    return (
        df.group_by("region", "order_date")
        .agg(revenue=pl.col("net_amount").sum(), orders=pl.col("order_id").n_unique())
        .sort("order_date", "region")
    )


@lambda_exec.task(partition_by="category")
def rank_products(df: pl.LazyFrame) -> pl.LazyFrame:
    return (
        df.group_by("category", "product_id", "product_name")
        .agg(revenue=pl.col("net_amount").sum(), units=pl.col("quantity").sum())
        .with_columns(rank=pl.col("revenue").rank("ordinal", descending=True).over("category"))
        .sort("category", "rank")
    )


@local_exec.task(cache=True)
def executive_summary(daily: pl.LazyFrame, ranking: pl.LazyFrame) -> pl.LazyFrame:
    by_region = daily.group_by("region").agg(revenue=pl.col("revenue").sum(), orders=pl.col("orders").sum())
    leaders = ranking.filter(pl.col("rank") == 1).select(
        category_leaders=pl.col("product_name").sort().str.join(", ")
    )
    return by_region.join(leaders, how="cross").sort("revenue", descending=True)


# One pipeline: enrichment (Spark), then two independent reports (Lambda), then the summary.
enrichment = (
    Pipeline(name="sales", orders=orders, customers=customers, products=products)
    .transform(enrich_orders)
    .to(enriched)
)
sales = (
    Pipeline(
        name="sales",
        description="Enrich orders, report revenue by region/day and product rankings, summarise.",
        daily=enrichment.transform(revenue_by_region_and_day).to(daily_revenue),
        ranking=enrichment.transform(rank_products).to(product_ranking),
    )
    .transform(executive_summary)
    .to(summary)
)
