"""The TPC-H Q3/Q5 pipelines as a plain Polars script: the same functions, reads and writes
(scan parquet, call, sink_parquet) with no Glacier. ``python bench/tpch_plain.py DATA_DIR``.

Also the reference for the peak-memory check: ``--only-sink`` runs one streaming query
with Polars' own ``sink_parquet``.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tpch_pipelines as q

FUNCS = {
    "building_orders": q.building_orders.func,
    "q3": q.q3.func,
    "asia_suppliers": q.asia_suppliers.func,
    "q5": q.q5.func,
}


def streaming_query(lineitem: pl.LazyFrame) -> pl.LazyFrame:
    """A streaming-capable task body used by the memory benchmark."""
    return lineitem.filter(pl.col("l_quantity") > 10).with_columns(
        net=pl.col("l_extendedprice").cast(pl.Float64) * (1 - pl.col("l_discount").cast(pl.Float64))
    )


def peak_rss_kb() -> int:
    """This process's peak RSS (VmHWM; unlike ru_maxrss it is not inherited across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def main() -> None:
    base = Path(sys.argv[1]) / "tpch"
    if "--only-sink" in sys.argv:
        streaming_query(pl.scan_parquet(base / "lineitem.parquet")).sink_parquet(
            base / "work" / "plain_stream.parquet"
        )
    else:
        (base / "work").mkdir(exist_ok=True)

        def scan(name: str) -> pl.LazyFrame:
            return pl.scan_parquet(base / f"{name}.parquet")

        FUNCS["building_orders"](scan("customer"), scan("orders")).sink_parquet(
            base / "work/building.parquet"
        )
        FUNCS["q3"](pl.scan_parquet(base / "work/building.parquet"), scan("lineitem")).sink_parquet(
            base / "work/q3.parquet"
        )
        FUNCS["asia_suppliers"](scan("supplier"), scan("nation"), scan("region")).sink_parquet(
            base / "work/asia.parquet"
        )
        FUNCS["q5"](
            scan("customer"), scan("orders"), scan("lineitem"), pl.scan_parquet(base / "work/asia.parquet")
        ).sink_parquet(base / "work/q5.parquet")
    print(f"maxrss_kb={peak_rss_kb()}")


if __name__ == "__main__":
    main()
