"""The TPC-H benchmark pipelines as plain Polars scripts: the same query functions
(``tpch_queries.py``), the same scans and ``sink_parquet`` writes, in dependency order, with
only Polars imported (no Glacier, no pydantic).

    python bench/tpch_plain.py DATA_DIR            # tpch_pipelines.py: Q3 and Q5, 4 tasks
    python bench/tpch_plain.py DATA_DIR --multi    # tpch_multi.py: all 22 queries + report
    python bench/tpch_plain.py DATA_DIR --only-sink
    python bench/tpch_plain.py DATA_DIR [--multi] --fused   # hand-fused: one pl.collect_all

Outputs go under ``tpch/work/plain/`` and ``tpch/work/plain_multi/`` (never over Glacier's,
which would invalidate its cache); ``--fused`` writes ``tpch/work/fused/`` and
``tpch/work/fused_multi/``: every step's query built first, a step reading its upstream's
frame (marked ``.cache()``) instead of the file, and all sinks run by one ``pl.collect_all``
(the physical limit of what Glacier's fused execution can reach). ``--only-sink`` runs one
streaming query with Polars' own ``sink_parquet``: the reference for the peak-memory check.
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Callable
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
import tpch_queries as q

FUNCS: dict[str, Callable[..., pl.LazyFrame]] = {
    "building_orders": q.building_orders,
    "q3": q.q3,
    "asia_suppliers": q.asia_suppliers,
    "q5": q.q5,
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


def q3_q5(base: Path) -> None:
    out = base / "work/plain"
    out.mkdir(parents=True, exist_ok=True)

    def scan(name: str) -> pl.LazyFrame:
        return pl.scan_parquet(base / f"{name}.parquet")

    q.building_orders(scan("customer"), scan("orders")).sink_parquet(out / "building.parquet")
    q.q3(pl.scan_parquet(out / "building.parquet"), scan("lineitem")).sink_parquet(out / "q3.parquet")
    q.asia_suppliers(scan("supplier"), scan("nation"), scan("region")).sink_parquet(out / "asia.parquet")
    q.q5(
        scan("customer"), scan("orders"), scan("lineitem"), pl.scan_parquet(out / "asia.parquet")
    ).sink_parquet(out / "q5.parquet")


def multi(base: Path) -> None:
    """Every step of ``tpch_multi`` in order: scan its inputs, sink its output."""
    out = base / "work/plain_multi"
    out.mkdir(parents=True, exist_ok=True)
    for step, func in q.STEPS.items():
        frames = {
            param: pl.scan_parquet(
                base / f"{source}.parquet" if source in q.TABLES else out / f"{source}.parquet"
            )
            for param, source in q.inputs(step).items()
        }
        func(**frames).sink_parquet(out / f"{step}.parquet")


def fused(
    base: Path, steps: dict[str, Callable[..., pl.LazyFrame]], sources: dict[str, dict[str, str]], out: Path
) -> None:
    """Hand-fused: one ``collect_all`` over every step's lazy sink."""
    out.mkdir(parents=True, exist_ok=True)
    read = {source for inputs in sources.values() for source in inputs.values()}
    frames: dict[str, pl.LazyFrame] = {}
    sinks = []
    for step, func in steps.items():
        args = {
            param: frames[source] if source in frames else pl.scan_parquet(base / f"{source}.parquet")
            for param, source in sources[step].items()
        }
        frame = func(**args)
        frames[step] = frame.cache() if step in read else frame
        sinks.append(frames[step].sink_parquet(out / f"{step}.parquet", lazy=True))
    pl.collect_all(sinks)


Q3Q5_SOURCES = {
    "building_orders": {"customer": "customer", "orders": "orders"},
    "q3": {"orders": "building_orders", "lineitem": "lineitem"},
    "asia_suppliers": {"supplier": "supplier", "nation": "nation", "region": "region"},
    "q5": {"customer": "customer", "orders": "orders", "lineitem": "lineitem", "suppliers": "asia_suppliers"},
}
# the output names tpch_pipelines.py gives the steps
Q3Q5_OUTPUTS = {"building_orders": "building", "q3": "q3", "asia_suppliers": "asia", "q5": "q5"}


def main() -> None:
    base = Path(sys.argv[1]) / "tpch"
    if "--only-sink" in sys.argv:
        streaming_query(pl.scan_parquet(base / "lineitem.parquet")).sink_parquet(
            base / "work" / "plain_stream.parquet"
        )
    elif "--fused" in sys.argv and "--multi" in sys.argv:
        fused(base, dict(q.STEPS), {step: q.inputs(step) for step in q.STEPS}, base / "work/fused_multi")
    elif "--fused" in sys.argv:
        out = base / "work/fused"
        fused(base, FUNCS, Q3Q5_SOURCES, out)
        for step, name in Q3Q5_OUTPUTS.items():
            (out / f"{step}.parquet").replace(out / f"{name}.parquet")
    elif "--multi" in sys.argv:
        multi(base)
    else:
        q3_q5(base)
    print(f"maxrss_kb={peak_rss_kb()}")


if __name__ == "__main__":
    main()
