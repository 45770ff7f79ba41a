"""Helpers for the runtime tests: sample data written with plain Polars into tmp dirs."""

from __future__ import annotations

from pathlib import Path

import polars as pl

SALES = pl.DataFrame(
    {
        "order_id": list(range(1, 13)),
        "customer_id": [1, 2, 3, 1, 2, 3, 4, 4, 1, 2, 5, 5],
        "product_id": [10, 11, 10, 12, 12, 11, 10, 12, 11, 10, 12, 10],
        "amount": [5.0, 7.5, 3.0, 12.0, 1.0, 8.0, 9.5, 2.5, 4.0, 6.0, 11.0, 3.5],
        "value": [1, -2, 3, None, 5, 0, -7, 8, 9, None, 11, 12],
        "category": ["a", "b", "a", "c", "b", "a", "c", "c", "a", "b", "b", "a"],
    }
)
CUSTOMERS = pl.DataFrame({"customer_id": [1, 2, 3, 4, 5], "region": ["eu", "us", "eu", "apac", "us"]})
PRODUCTS = pl.DataFrame({"product_id": [10, 11, 12], "product": ["tea", "coffee", "cocoa"]})


def write_sources(base: Path, bucket: str, files: dict[str, pl.DataFrame]) -> None:
    for path, frame in files.items():
        target = base / bucket / path
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.write_parquet(target)


def assert_same(actual: pl.DataFrame, expected: pl.DataFrame, *, by: list[str] | None = None) -> None:
    from polars.testing import assert_frame_equal

    if by:
        actual, expected = actual.sort(by), expected.sort(by)
    assert_frame_equal(actual, expected, check_row_order=by is not None)
