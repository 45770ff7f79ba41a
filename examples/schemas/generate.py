"""Write sample data for ``examples/schemas/pipelines.py`` in the local layout
``DATA_DIR/<bucket>/<path>``: ``shop-raw/orders.parquet`` and ``shop-raw/customers.csv``.

    python examples/schemas/generate.py DATA_DIR [--orders N]
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import polars as pl

REGIONS = ("emea", "apac", "americas")


def generate(data_dir: Path, orders: int = 1_000) -> None:
    raw = data_dir / "shop-raw"
    raw.mkdir(parents=True, exist_ok=True)
    customers = pl.DataFrame(
        {
            "customer_id": list(range(1, 31)),
            "region": [REGIONS[i % len(REGIONS)] for i in range(30)],
        }
    )
    customers.write_csv(raw / "customers.csv")
    start = dt.datetime(2026, 1, 1)
    pl.DataFrame(
        {
            "order_id": list(range(1, orders + 1)),
            "customer_id": [1 + i % 30 for i in range(orders)],
            "amount": [round((i % 17) * 3.5 - 7.0, 2) for i in range(orders)],
            "placed_at": [start + dt.timedelta(hours=5 * i) for i in range(orders)],
        },
        schema={
            "order_id": pl.Int64,
            "customer_id": pl.Int64,
            "amount": pl.Float64,
            "placed_at": pl.Datetime("us"),
        },
    ).write_parquet(raw / "orders.parquet")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--orders", type=int, default=1_000)
    args = parser.parse_args()
    generate(args.data_dir, args.orders)


if __name__ == "__main__":
    main()
