"""Seed 001, composition pattern 3: multi-source pipelines (joins).

The seed's first attempt (``.to(joined).transform(enrich_with_products)``, marked "ERROR!")
feeds one bucket to a two-parameter task; Glacier rejects it with a DefinitionError, so it
is left out here (tests/test_examples.py checks that error). As in the seed, the name
``pipeline`` is bound twice, so only the second binding (enrich -> aggregate) remains a
module-level pipeline; the first join is still a definition you can build and run.
"""

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, SparkConfig

provider = Provider(config=AwsConfig(region="us-east-1"))
local_exec = provider.local()
spark_exec = provider.spark(config=SparkConfig(workers=3))

# Define storage
sales = provider.bucket("data", "sales.parquet")
customers = provider.bucket("data", "customers.parquet")
products = provider.bucket("data", "products.parquet")
joined = provider.bucket("data", "joined.parquet")
enriched = provider.bucket("data", "enriched.parquet")
output = provider.bucket("data", "output.parquet")


# Define multi-source tasks
@spark_exec.task()
def join_sales_customers(sales_df: pl.LazyFrame, customers_df: pl.LazyFrame) -> pl.LazyFrame:
    """Join sales with customers."""
    return sales_df.join(customers_df, on="customer_id", how="left")


@spark_exec.task()
def enrich_with_products(joined_df: pl.LazyFrame, products_df: pl.LazyFrame) -> pl.LazyFrame:
    """Add product information."""
    return joined_df.join(products_df, on="product_id", how="left")


@local_exec.task()
def aggregate(df: pl.LazyFrame) -> pl.LazyFrame:
    """Aggregate by region."""
    return df.group_by("region").agg(pl.col("revenue").sum())


# Correct approach: chain multi-source operations
pipeline = (
    Pipeline(sales_df=sales, customers_df=customers)  # First join
    .transform(join_sales_customers)
    .to(joined)  # Returns Bucket
)

pipeline = (
    Pipeline(joined_df=joined, products_df=products)  # Second join
    .transform(enrich_with_products)
    .to(enriched)  # Returns Bucket
    .transform(aggregate)  # Single-source from here
    .to(output)
)

# Or as one expression:
enriched = Pipeline(joined_df=joined, products_df=products).transform(enrich_with_products).to(enriched)

output = enriched.transform(aggregate).to(output)
