"""A Polars task co-partitioned on local Spark vs the same task on Polars alone (issue 12).

    python bench/spark_partitioned.py DATA_DIR [--sf 0.1] [--partitions 1,2,4]

Data: TPC-H ``lineitem`` and ``orders`` at scale factor ``--sf`` (DuckDB's tpch extension),
their key renamed to ``orderkey`` in both (``partition_by`` keys are columns every input
shares). The task joins them on the key and sums the revenue per order and priority. It
runs once on Polars alone (scan -> collect -> parquet), then through the Spark entry's
``run_on_spark`` on one ``local[N]`` session with N = max(--partitions) cores and 1, 2, 4
co-partitions. Each result is compared with the Polars one (sorted frames, equal); the
seconds and the ratio to Polars are printed side by side.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import polars as pl
from polars.testing import assert_frame_equal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def revenue(lineitem: pl.LazyFrame, orders: pl.LazyFrame) -> pl.LazyFrame:
    """Key-local on orderkey: a join and a group-by on it."""
    return (
        lineitem.join(orders, on="orderkey")
        .with_columns(revenue=pl.col("l_extendedprice") * (1 - pl.col("l_discount")))
        .group_by("orderkey", "o_orderpriority")
        .agg(pl.col("revenue").sum(), pl.len().alias("lines"))
    )


def generate(folder: Path, sf: float) -> None:
    if (folder / "lineitem.parquet").exists() and (folder / "orders.parquet").exists():
        return
    from tpch_pipelines import _duckdb_with_tpch

    folder.mkdir(parents=True, exist_ok=True)
    con = _duckdb_with_tpch()
    con.execute(f"CALL dbgen(sf={sf})")
    con.execute(
        "COPY (SELECT l_orderkey AS orderkey, l_extendedprice::DOUBLE AS l_extendedprice, "
        f"l_discount::DOUBLE AS l_discount FROM lineitem) TO '{folder}/lineitem.parquet' (FORMAT parquet)"
    )
    con.execute(
        "COPY (SELECT o_orderkey AS orderkey, o_orderpriority FROM orders) "
        f"TO '{folder}/orders.parquet' (FORMAT parquet)"
    )
    con.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--sf", type=float, default=0.1)
    parser.add_argument("--partitions", default="1,2,4")
    args = parser.parse_args()
    counts = [int(n) for n in args.partitions.split(",")]
    folder = args.data_dir / f"spark_partitioned_sf{args.sf}"
    generate(folder, args.sf)

    started = time.perf_counter()
    expected = revenue(
        pl.scan_parquet(folder / "lineitem.parquet"), pl.scan_parquet(folder / "orders.parquet")
    )
    expected.sink_parquet(folder / "polars.parquet")
    polars_seconds = time.perf_counter() - started
    # Spark has no unsigned types: pl.len() (UInt32) comes back as Int64.
    expected_frame = (
        pl.read_parquet(folder / "polars.parquet")
        .sort("orderkey")
        .with_columns(pl.col("lines").cast(pl.Int64))
    )

    os.environ.setdefault("GLACIER_SPARK_MASTER", f"local[{max(counts)}]")
    from glacier.runtime.event import TaskEvent
    from glacier.runtime.spark_engine import spark_session
    from glacier.runtime.spark_entry import run_on_spark

    spark = spark_session()
    spark.sparkContext.setLogLevel("ERROR")
    print(
        f"rows: lineitem {pl.scan_parquet(folder / 'lineitem.parquet').select(pl.len()).collect().item()}, "
        f"result {expected_frame.height}; Spark master {spark.sparkContext.master}"
    )
    print(f"{'engine':<28}{'seconds':>10}{'vs Polars':>11}  answer")
    print(f"{'Polars alone':<28}{polars_seconds:>10.2f}{1.0:>11.2f}  reference")
    for n in counts:
        spark.conf.set("spark.glacier.copartitions", str(n))
        event = TaskEvent.model_validate(
            {
                "pipeline": "bench",
                "task": "revenue",
                "code_ref": "spark_partitioned:revenue",
                "inputs": {
                    "lineitem": {"uri": str(folder / "lineitem.parquet"), "format": "parquet"},
                    "orders": {"uri": str(folder / "orders.parquet"), "format": "parquet"},
                },
                "output": {"uri": str(folder / f"spark_{n}.parquet"), "format": "parquet"},
                "partition_by": ["orderkey"],
            }
        )
        started = time.perf_counter()
        run = run_on_spark(event, revenue, None)
        seconds = time.perf_counter() - started
        got = pl.read_parquet(folder / f"spark_{n}.parquet").sort("orderkey")
        try:  # float sums may differ in the last bits: rows reach a group in another order
            assert_frame_equal(got.select(expected_frame.columns), expected_frame)
            same = True
        except AssertionError:
            same = False
        label = f"Spark, {n} co-partition(s)"
        print(
            f"{label:<28}{seconds:>10.2f}{seconds / polars_seconds:>11.2f}  "
            f"{'equal' if same else 'DIFFERENT'} ({run.partitions_used} used)"
        )


if __name__ == "__main__":
    main()
