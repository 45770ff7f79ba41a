"""Generate realistic sample data for the sales pipeline (deterministic for a given seed).

``python examples/sales/generate.py DATA_DIR [--orders N]`` writes, in the local layout
``DATA_DIR/<bucket>/<path>``: ``sales-raw/orders.csv``, ``sales-raw/customers.parquet`` and
``sales-raw/products.ndjson``.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import polars as pl

REGIONS = ["emea", "north-america", "latam", "apac"]
CATEGORIES = {
    "coffee": ["espresso beans", "filter blend", "cold brew kit", "decaf roast"],
    "tea": ["green sencha", "earl grey", "chai mix"],
    "equipment": ["grinder", "kettle", "pour-over set", "scale", "milk frother"],
}


def generate(data_dir: Path, orders: int = 200_000, seed: int = 7) -> dict[str, int]:
    """Write the three raw datasets; returns row counts."""
    raw = data_dir / "sales-raw"
    raw.mkdir(parents=True, exist_ok=True)
    n_customers = max(50, orders // 40)
    customers = pl.DataFrame(
        {
            "customer_id": pl.int_range(1, n_customers + 1, eager=True),
        }
    ).with_columns(
        region=pl.col("customer_id")
        .hash(seed)
        .mod(len(REGIONS))
        .map_elements(REGIONS.__getitem__, return_dtype=pl.String),
        segment=pl.when(pl.col("customer_id") % 5 == 0)
        .then(pl.lit("business"))
        .otherwise(pl.lit("consumer")),
    )
    products = pl.DataFrame(
        [
            {"product_id": 100 + i, "product_name": name, "category": category, "unit_price": 4.5 + 7.25 * i}
            for i, (category, name) in enumerate(
                (category, name) for category, names in CATEGORIES.items() for name in names
            )
        ]
    )
    start = dt.datetime(2025, 1, 1)
    order_frame = (
        pl.DataFrame({"order_id": pl.int_range(1, orders + 1, eager=True)})
        .with_columns(h=pl.col("order_id").hash(seed))
        .with_columns(
            customer_id=pl.when(pl.col("h") % 97 == 0)
            .then(None)
            .otherwise((pl.col("h") % n_customers + 1).cast(pl.Int64)),
            product_id=(pl.col("h") // 7 % products.height + 100).cast(pl.Int64),
            quantity=(pl.col("h") // 11 % 6).cast(pl.Int64) - (pl.col("h") % 53 == 0).cast(pl.Int64),
            discount=((pl.col("h") // 13 % 4) * 0.05).round(2),
            status=pl.when(pl.col("h") % 31 == 0).then(pl.lit("cancelled")).otherwise(pl.lit("shipped")),
            order_ts=(
                pl.lit(start) + pl.duration(minutes=(pl.col("h") // 17 % (90 * 24 * 60)).cast(pl.Int64))
            ).dt.strftime("%Y-%m-%dT%H:%M:%S"),
        )
        .drop("h")
        .join(products.select("product_id", "unit_price"), on="product_id")
        .sort("order_id")
    )
    order_frame.write_csv(raw / "orders.csv")
    customers.write_parquet(raw / "customers.parquet")
    products.drop("unit_price").write_ndjson(raw / "products.ndjson")
    return {"orders": order_frame.height, "customers": customers.height, "products": products.height}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--orders", type=int, default=200_000)
    args = parser.parse_args()
    counts = generate(args.data_dir, args.orders)
    print(", ".join(f"{name}: {count:,} rows" for name, count in counts.items()))


if __name__ == "__main__":
    main()
