"""TPC-H queries 3 and 5 written as Glacier pipelines (multi-join, two tasks each),
plus the data generator and official answers from DuckDB's tpch extension.

Datasets live in bucket ``tpch``: ``tpch/<table>.parquet`` (generated), intermediate and
final results under ``tpch/work/``. Importing this module reads and writes nothing.
"""

from __future__ import annotations

import datetime as dt
import glob
import io
import os
from pathlib import Path

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path="./data"))
local = provider.local()
TABLES = ("customer", "orders", "lineitem", "supplier", "nation", "region")
table = {name: provider.bucket("tpch", f"{name}.parquet") for name in TABLES}


def revenue() -> pl.Expr:
    price, discount = pl.col("l_extendedprice").cast(pl.Float64), pl.col("l_discount").cast(pl.Float64)
    return price * (1 - discount)


# -- Q3: shipping priority ----------------------------------------------------------------
@local.task(cache=True)
def building_orders(customer: pl.LazyFrame, orders: pl.LazyFrame) -> pl.LazyFrame:
    customers = customer.filter(pl.col("c_mktsegment") == "BUILDING").select("c_custkey")
    return orders.filter(pl.col("o_orderdate") < dt.date(1995, 3, 15)).join(
        customers, left_on="o_custkey", right_on="c_custkey"
    )


@local.task(cache=True)
def q3(orders: pl.LazyFrame, lineitem: pl.LazyFrame) -> pl.LazyFrame:
    return (
        lineitem.filter(pl.col("l_shipdate") > dt.date(1995, 3, 15))
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .group_by("l_orderkey", "o_orderdate", "o_shippriority")
        .agg(revenue().sum().alias("revenue"))
        .sort(["revenue", "o_orderdate"], descending=[True, False])
        .head(10)
        .select("l_orderkey", "revenue", "o_orderdate", "o_shippriority")
    )


# -- Q5: local supplier volume ------------------------------------------------------------
@local.task(cache=True)
def asia_suppliers(supplier: pl.LazyFrame, nation: pl.LazyFrame, region: pl.LazyFrame) -> pl.LazyFrame:
    asia = region.filter(pl.col("r_name") == "ASIA")
    nations = nation.join(asia, left_on="n_regionkey", right_on="r_regionkey")
    return supplier.join(nations, left_on="s_nationkey", right_on="n_nationkey").select(
        "s_suppkey", "s_nationkey", "n_name"
    )


@local.task(cache=True)
def q5(
    customer: pl.LazyFrame, orders: pl.LazyFrame, lineitem: pl.LazyFrame, suppliers: pl.LazyFrame
) -> pl.LazyFrame:
    year = orders.filter(
        (pl.col("o_orderdate") >= dt.date(1994, 1, 1)) & (pl.col("o_orderdate") < dt.date(1995, 1, 1))
    )
    return (
        lineitem.join(year, left_on="l_orderkey", right_on="o_orderkey")
        .join(customer, left_on="o_custkey", right_on="c_custkey")
        .join(suppliers, left_on=["l_suppkey", "c_nationkey"], right_on=["s_suppkey", "s_nationkey"])
        .group_by("n_name")
        .agg(revenue().sum().alias("revenue"))
        .sort("revenue", descending=True)
    )


work = {name: provider.bucket("tpch", f"work/{name}.parquet") for name in ("building", "q3", "asia", "q5")}

tpch_q3 = (
    Pipeline(
        name="tpch_q3",
        orders=Pipeline(name="tpch_q3", customer=table["customer"], orders=table["orders"])
        .transform(building_orders)
        .to(work["building"]),
        lineitem=table["lineitem"],
    )
    .transform(q3)
    .to(work["q3"])
)

tpch_q5 = (
    Pipeline(
        name="tpch_q5",
        customer=table["customer"],
        orders=table["orders"],
        lineitem=table["lineitem"],
        suppliers=Pipeline(
            name="tpch_q5", supplier=table["supplier"], nation=table["nation"], region=table["region"]
        )
        .transform(asia_suppliers)
        .to(work["asia"]),
    )
    .transform(q5)
    .to(work["q5"])
)


# -- data and answers ---------------------------------------------------------------------
def _duckdb_with_tpch():  # type: ignore[no-untyped-def]
    import duckdb
    import duckdb_extension_tpch

    pattern = os.path.join(
        os.path.dirname(duckdb_extension_tpch.__file__), "extensions", "*", "*.duckdb_extension"
    )
    (extension,) = glob.glob(pattern)
    con = duckdb.connect()
    con.execute(f"LOAD '{extension}'")
    return con


def generate(base: Path, scale_factor: float) -> None:
    """Write the TPC-H tables as parquet into ``base/tpch/``."""
    folder = base / "tpch"
    folder.mkdir(parents=True, exist_ok=True)
    con = _duckdb_with_tpch()
    con.execute(f"CALL dbgen(sf={scale_factor})")
    for name in TABLES:
        con.execute(f"COPY {name} TO '{folder / name}.parquet' (FORMAT parquet)")
    con.close()


def answer(query: int, scale_factor: float) -> pl.DataFrame:
    """The official answer for ``query`` at ``scale_factor`` (0.01, 0.1 or 1)."""
    con = _duckdb_with_tpch()
    rows = con.execute(
        "SELECT answer FROM tpch_answers() WHERE query_nr = ? AND scale_factor = ?", [query, scale_factor]
    ).fetchall()
    con.close()
    return pl.read_csv(io.StringIO(rows[0][0]), separator="|", try_parse_dates=True)
