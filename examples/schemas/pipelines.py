"""Schema contracts: two declared sources, an undeclared intermediate, a declared output.

Every column is known before anything runs: ``glacier validate examples/schemas/pipelines.py``
calls each task on empty frames of its inputs' schemas (no data is read), derives the
intermediate ``clean_orders`` schema, and checks ``region_revenue`` produces exactly what its
declaration says. ``glacier schema examples/schemas/pipelines.py`` prints every schema;
at run time each declared input is checked before its task runs and each declared output
before it is written. Runs locally with ``glacier run examples/schemas/pipelines.py --data-dir DIR``
(sample data: ``python examples/schemas/generate.py DIR``) and deploys as written (AwsConfig):
every dataset with a schema becomes a Glue Data Catalog table.
"""

from __future__ import annotations

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
executor = provider.local()

orders = provider.bucket(
    "shop-raw",
    "orders.parquet",
    schema={
        "order_id": pl.Int64,
        "customer_id": pl.Int64,
        "amount": pl.Float64,
        "placed_at": pl.Datetime("us"),
    },
)
customers = provider.bucket(
    "shop-raw",
    "customers.csv",
    schema={"customer_id": pl.Int64, "region": pl.String},
)
clean_orders = provider.bucket("shop-clean", "orders.parquet")  # derived: not declared
region_revenue = provider.bucket(
    "shop-marts",
    "region_revenue.parquet",
    schema={"region": pl.String, "day": pl.Date, "revenue": pl.Float64, "orders": pl.UInt32},
)


@executor.task()
def clean(orders: pl.LazyFrame) -> pl.LazyFrame:
    """Keep paid orders and add their calendar day."""
    return orders.filter(pl.col("amount") > 0).with_columns(day=pl.col("placed_at").dt.date())


@executor.task()
def revenue_by_region(orders: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    return (
        orders.join(customers, on="customer_id", how="inner")
        .group_by("region", "day")
        .agg(revenue=pl.col("amount").sum(), orders=pl.len())
        .sort("region", "day")
    )


cleaned = orders.transform(clean).to(clean_orders)
report = (
    Pipeline(orders=cleaned, customers=customers)
    .transform(revenue_by_region)
    .to(region_revenue)
    .with_name("region_revenue")
)
