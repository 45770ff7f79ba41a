"""TPC-H queries 3, 5, 7 and 10 as plain Polars functions (LazyFrame in, LazyFrame out),
and the report over their answers that ends ``tpch_multi``.

Pure Polars, no Glacier: ``tpch_pipelines.py`` and ``tpch_multi.py`` make them tasks, and
``tpch_plain.py`` calls the very same functions with nothing but Polars imported.
"""

from __future__ import annotations

import datetime as dt

import polars as pl


def revenue() -> pl.Expr:
    price, discount = pl.col("l_extendedprice").cast(pl.Float64), pl.col("l_discount").cast(pl.Float64)
    return price * (1 - discount)


# -- Q3: shipping priority ----------------------------------------------------------------
def building_orders(customer: pl.LazyFrame, orders: pl.LazyFrame) -> pl.LazyFrame:
    customers = customer.filter(pl.col("c_mktsegment") == "BUILDING").select("c_custkey")
    return orders.filter(pl.col("o_orderdate") < dt.date(1995, 3, 15)).join(
        customers, left_on="o_custkey", right_on="c_custkey"
    )


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
def asia_suppliers(supplier: pl.LazyFrame, nation: pl.LazyFrame, region: pl.LazyFrame) -> pl.LazyFrame:
    asia = region.filter(pl.col("r_name") == "ASIA")
    nations = nation.join(asia, left_on="n_regionkey", right_on="r_regionkey")
    return supplier.join(nations, left_on="s_nationkey", right_on="n_nationkey").select(
        "s_suppkey", "s_nationkey", "n_name"
    )


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


# -- Q7: volume shipping ------------------------------------------------------------------
def q7(
    supplier: pl.LazyFrame,
    lineitem: pl.LazyFrame,
    orders: pl.LazyFrame,
    customer: pl.LazyFrame,
    nation: pl.LazyFrame,
) -> pl.LazyFrame:
    pair = nation.filter(pl.col("n_name").is_in(["FRANCE", "GERMANY"])).select("n_nationkey", "n_name")
    suppliers = supplier.join(pair, left_on="s_nationkey", right_on="n_nationkey").select(
        "s_suppkey", pl.col("n_name").alias("supp_nation")
    )
    customers = customer.join(pair, left_on="c_nationkey", right_on="n_nationkey").select(
        "c_custkey", pl.col("n_name").alias("cust_nation")
    )
    shipped = lineitem.filter(pl.col("l_shipdate").is_between(dt.date(1995, 1, 1), dt.date(1996, 12, 31)))
    return (
        shipped.join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .join(customers, left_on="o_custkey", right_on="c_custkey")
        .filter(pl.col("supp_nation") != pl.col("cust_nation"))
        .group_by("supp_nation", "cust_nation", pl.col("l_shipdate").dt.year().alias("l_year"))
        .agg(revenue().sum().alias("revenue"))
        .sort("supp_nation", "cust_nation", "l_year")
    )


# -- Q10: returned item reporting ---------------------------------------------------------
def q10(
    customer: pl.LazyFrame, orders: pl.LazyFrame, lineitem: pl.LazyFrame, nation: pl.LazyFrame
) -> pl.LazyFrame:
    quarter = orders.filter(
        (pl.col("o_orderdate") >= dt.date(1993, 10, 1)) & (pl.col("o_orderdate") < dt.date(1994, 1, 1))
    )
    keys = ["c_custkey", "c_name", "c_acctbal", "c_phone", "n_name", "c_address", "c_comment"]
    return (
        lineitem.filter(pl.col("l_returnflag") == "R")
        .join(quarter, left_on="l_orderkey", right_on="o_orderkey")
        .join(customer, left_on="o_custkey", right_on="c_custkey")
        .join(nation, left_on="c_nationkey", right_on="n_nationkey")
        .rename({"o_custkey": "c_custkey"})
        .group_by(keys)
        .agg(revenue().sum().alias("revenue"))
        .sort(["revenue", "c_custkey"], descending=[True, False])
        .head(20)
        .select("c_custkey", "c_name", "revenue", "c_acctbal", "n_name", "c_address", "c_phone", "c_comment")
    )


# -- the report that joins the four branches of tpch_multi ---------------------------------
def report(q3: pl.LazyFrame, q5: pl.LazyFrame, q7: pl.LazyFrame, q10: pl.LazyFrame) -> pl.LazyFrame:
    """One row per query: its rows and total revenue."""
    answers = {"q3": q3, "q5": q5, "q7": q7, "q10": q10}
    return pl.concat(
        frame.select(
            pl.lit(name).alias("query"), pl.len().alias("rows"), pl.col("revenue").sum().alias("revenue")
        )
        for name, frame in answers.items()
    )
