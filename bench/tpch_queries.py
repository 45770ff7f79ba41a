"""The 22 TPC-H queries as plain Polars functions (LazyFrame in, LazyFrame out), written from
the specification's SQL, and the report over their answers that ends ``tpch_multi``.
Queries 2, 3, 5, 11, 15 and 18 are split in two steps (a reusable intermediate, then the query).

Pure Polars, no Glacier: ``tpch_pipelines.py`` and ``tpch_multi.py`` make them tasks, and
``tpch_plain.py`` calls the very same functions with nothing but Polars imported.
"""

from __future__ import annotations

import datetime as dt
import inspect
from collections.abc import Callable

import polars as pl


def num(name: str) -> pl.Expr:
    """A DECIMAL column as Float64 (the answers are compared with a float tolerance)."""
    return pl.col(name).cast(pl.Float64)


def revenue() -> pl.Expr:
    return num("l_extendedprice") * (1 - num("l_discount"))


def year_of(column: str, year: int) -> pl.Expr:
    return (pl.col(column) >= dt.date(year, 1, 1)) & (pl.col(column) < dt.date(year + 1, 1, 1))


def sql_sum(expr: pl.Expr) -> pl.Expr:
    """SQL's SUM: NULL over no rows (Polars' sum gives 0)."""
    return pl.when(pl.len() > 0).then(expr.sum())


# -- Q1: pricing summary report -----------------------------------------------------------
def q1(lineitem: pl.LazyFrame) -> pl.LazyFrame:
    price, discount, tax = num("l_extendedprice"), num("l_discount"), num("l_tax")
    return (
        lineitem.filter(pl.col("l_shipdate") <= dt.date(1998, 12, 1) - dt.timedelta(days=90))
        .group_by("l_returnflag", "l_linestatus")
        .agg(
            num("l_quantity").sum().alias("sum_qty"),
            price.sum().alias("sum_base_price"),
            (price * (1 - discount)).sum().alias("sum_disc_price"),
            (price * (1 - discount) * (1 + tax)).sum().alias("sum_charge"),
            num("l_quantity").mean().alias("avg_qty"),
            price.mean().alias("avg_price"),
            discount.mean().alias("avg_disc"),
            pl.len().alias("count_order"),
        )
        .sort("l_returnflag", "l_linestatus")
    )


# -- Q2: minimum cost supplier ------------------------------------------------------------
def europe_supply(
    partsupp: pl.LazyFrame, supplier: pl.LazyFrame, nation: pl.LazyFrame, region: pl.LazyFrame
) -> pl.LazyFrame:
    """Every part's offers by European suppliers, with the supplier's details."""
    europe = region.filter(pl.col("r_name") == "EUROPE")
    nations = nation.join(europe, left_on="n_regionkey", right_on="r_regionkey").select(
        "n_nationkey", "n_name"
    )
    suppliers = supplier.join(nations, left_on="s_nationkey", right_on="n_nationkey")
    return partsupp.join(suppliers, left_on="ps_suppkey", right_on="s_suppkey").select(
        "ps_partkey", "ps_supplycost", "s_acctbal", "s_name", "n_name", "s_address", "s_phone", "s_comment"
    )


def q2(part: pl.LazyFrame, supply: pl.LazyFrame) -> pl.LazyFrame:
    parts = part.filter((pl.col("p_size") == 15) & pl.col("p_type").str.ends_with("BRASS"))
    offers = supply.join(parts, left_on="ps_partkey", right_on="p_partkey")
    cheapest = supply.group_by("ps_partkey").agg(pl.col("ps_supplycost").min().alias("min_cost"))
    return (
        offers.join(cheapest, on="ps_partkey")
        .filter(pl.col("ps_supplycost") == pl.col("min_cost"))
        .rename({"ps_partkey": "p_partkey"})
        .sort(["s_acctbal", "n_name", "s_name", "p_partkey"], descending=[True, False, False, False])
        .head(100)
        .select("s_acctbal", "s_name", "n_name", "p_partkey", "p_mfgr", "s_address", "s_phone", "s_comment")
    )


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


# -- Q4: order priority checking ----------------------------------------------------------
def q4(orders: pl.LazyFrame, lineitem: pl.LazyFrame) -> pl.LazyFrame:
    late = lineitem.filter(pl.col("l_commitdate") < pl.col("l_receiptdate"))
    return (
        orders.filter(
            pl.col("o_orderdate").is_between(dt.date(1993, 7, 1), dt.date(1993, 10, 1), closed="left")
        )
        .join(late, left_on="o_orderkey", right_on="l_orderkey", how="semi")
        .group_by("o_orderpriority")
        .agg(pl.len().alias("order_count"))
        .sort("o_orderpriority")
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


# -- Q6: forecasting revenue change -------------------------------------------------------
def q6(lineitem: pl.LazyFrame) -> pl.LazyFrame:
    return lineitem.filter(
        year_of("l_shipdate", 1994)
        # DECIMAL(15,2) compared in cents: no float rounding at the bounds
        & (pl.col("l_discount").cast(pl.Float64) * 100).round().is_between(5, 7)
        & (num("l_quantity") < 24)
    ).select(sql_sum(num("l_extendedprice") * num("l_discount")).alias("revenue"))


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


# -- Q8: national market share ------------------------------------------------------------
def q8(
    part: pl.LazyFrame,
    supplier: pl.LazyFrame,
    lineitem: pl.LazyFrame,
    orders: pl.LazyFrame,
    customer: pl.LazyFrame,
    nation: pl.LazyFrame,
    region: pl.LazyFrame,
) -> pl.LazyFrame:
    america = region.filter(pl.col("r_name") == "AMERICA")
    american = nation.join(america, left_on="n_regionkey", right_on="r_regionkey").select("n_nationkey")
    customers = customer.join(american, left_on="c_nationkey", right_on="n_nationkey").select("c_custkey")
    suppliers = supplier.join(nation, left_on="s_nationkey", right_on="n_nationkey").select(
        "s_suppkey", pl.col("n_name").alias("nation")
    )
    steel = part.filter(pl.col("p_type") == "ECONOMY ANODIZED STEEL").select("p_partkey")
    period = orders.filter(pl.col("o_orderdate").is_between(dt.date(1995, 1, 1), dt.date(1996, 12, 31)))
    volume = revenue()
    return (
        lineitem.join(steel, left_on="l_partkey", right_on="p_partkey")
        .join(period, left_on="l_orderkey", right_on="o_orderkey")
        .join(customers, left_on="o_custkey", right_on="c_custkey")
        .join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .group_by(pl.col("o_orderdate").dt.year().alias("o_year"))
        .agg(
            (pl.when(pl.col("nation") == "BRAZIL").then(volume).otherwise(0.0).sum() / volume.sum()).alias(
                "mkt_share"
            )
        )
        .sort("o_year")
    )


# -- Q9: product type profit measure ------------------------------------------------------
def q9(
    part: pl.LazyFrame,
    supplier: pl.LazyFrame,
    lineitem: pl.LazyFrame,
    partsupp: pl.LazyFrame,
    orders: pl.LazyFrame,
    nation: pl.LazyFrame,
) -> pl.LazyFrame:
    green = part.filter(pl.col("p_name").str.contains("green", literal=True)).select("p_partkey")
    amount = revenue() - num("ps_supplycost") * num("l_quantity")
    return (
        lineitem.join(green, left_on="l_partkey", right_on="p_partkey")
        .join(partsupp, left_on=["l_partkey", "l_suppkey"], right_on=["ps_partkey", "ps_suppkey"])
        .join(supplier, left_on="l_suppkey", right_on="s_suppkey")
        .join(nation, left_on="s_nationkey", right_on="n_nationkey")
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .group_by(pl.col("n_name").alias("nation"), pl.col("o_orderdate").dt.year().alias("o_year"))
        .agg(amount.sum().alias("sum_profit"))
        .sort(["nation", "o_year"], descending=[False, True])
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


# -- Q11: important stock identification --------------------------------------------------
def germany_supply(partsupp: pl.LazyFrame, supplier: pl.LazyFrame, nation: pl.LazyFrame) -> pl.LazyFrame:
    """The stock value of every offer by a German supplier."""
    germany = nation.filter(pl.col("n_name") == "GERMANY").select("n_nationkey")
    suppliers = supplier.join(germany, left_on="s_nationkey", right_on="n_nationkey").select("s_suppkey")
    return partsupp.join(suppliers, left_on="ps_suppkey", right_on="s_suppkey").select(
        "ps_partkey", (num("ps_supplycost") * pl.col("ps_availqty")).alias("value")
    )


def q11(supply: pl.LazyFrame) -> pl.LazyFrame:
    threshold = supply.select((pl.col("value").sum() * 0.0001).alias("threshold"))
    return (
        supply.group_by("ps_partkey")
        .agg(pl.col("value").sum())
        .join(threshold, how="cross")
        .filter(pl.col("value") > pl.col("threshold"))
        .sort("value", descending=True)
        .select("ps_partkey", "value")
    )


# -- Q12: shipping modes and order priority -----------------------------------------------
def q12(orders: pl.LazyFrame, lineitem: pl.LazyFrame) -> pl.LazyFrame:
    urgent = pl.col("o_orderpriority").is_in(["1-URGENT", "2-HIGH"])
    return (
        lineitem.filter(
            pl.col("l_shipmode").is_in(["MAIL", "SHIP"])
            & (pl.col("l_commitdate") < pl.col("l_receiptdate"))
            & (pl.col("l_shipdate") < pl.col("l_commitdate"))
            & year_of("l_receiptdate", 1994)
        )
        .join(orders, left_on="l_orderkey", right_on="o_orderkey")
        .group_by("l_shipmode")
        .agg(
            urgent.cast(pl.Int64).sum().alias("high_line_count"),
            (~urgent).cast(pl.Int64).sum().alias("low_line_count"),
        )
        .sort("l_shipmode")
    )


# -- Q13: customer distribution -----------------------------------------------------------
def q13(customer: pl.LazyFrame, orders: pl.LazyFrame) -> pl.LazyFrame:
    counted = (
        orders.filter(~pl.col("o_comment").str.contains("special.*requests"))
        .group_by("o_custkey")
        .agg(pl.len().alias("c_count"))
    )
    return (
        customer.select("c_custkey")
        .join(counted, left_on="c_custkey", right_on="o_custkey", how="left")
        .group_by(pl.col("c_count").fill_null(0).cast(pl.Int64))
        .agg(pl.len().alias("custdist"))
        .sort(["custdist", "c_count"], descending=True)
    )


# -- Q14: promotion effect ----------------------------------------------------------------
def q14(lineitem: pl.LazyFrame, part: pl.LazyFrame) -> pl.LazyFrame:
    promo = pl.when(pl.col("p_type").str.starts_with("PROMO")).then(revenue()).otherwise(0.0)
    return (
        lineitem.filter(
            pl.col("l_shipdate").is_between(dt.date(1995, 9, 1), dt.date(1995, 10, 1), closed="left")
        )
        .join(part, left_on="l_partkey", right_on="p_partkey")
        .select((100.0 * sql_sum(promo) / sql_sum(revenue())).alias("promo_revenue"))
    )


# -- Q15: top supplier --------------------------------------------------------------------
def supplier_revenue(lineitem: pl.LazyFrame) -> pl.LazyFrame:
    """The view revenue0: each supplier's revenue in the first quarter of 1996."""
    return (
        lineitem.filter(
            pl.col("l_shipdate").is_between(dt.date(1996, 1, 1), dt.date(1996, 4, 1), closed="left")
        )
        .group_by(pl.col("l_suppkey").alias("supplier_no"))
        .agg(revenue().sum().alias("total_revenue"))
    )


def q15(supplier: pl.LazyFrame, quarter_revenue: pl.LazyFrame) -> pl.LazyFrame:
    top = quarter_revenue.filter(pl.col("total_revenue") == pl.col("total_revenue").max())
    return (
        supplier.join(top, left_on="s_suppkey", right_on="supplier_no")
        .sort("s_suppkey")
        .select("s_suppkey", "s_name", "s_address", "s_phone", "total_revenue")
    )


# -- Q16: parts/supplier relationship -----------------------------------------------------
def q16(partsupp: pl.LazyFrame, part: pl.LazyFrame, supplier: pl.LazyFrame) -> pl.LazyFrame:
    parts = part.filter(
        (pl.col("p_brand") != "Brand#45")
        & ~pl.col("p_type").str.starts_with("MEDIUM POLISHED")
        & pl.col("p_size").is_in([49, 14, 23, 45, 19, 3, 36, 9])
    )
    complained = supplier.filter(pl.col("s_comment").str.contains("Customer.*Complaints")).select("s_suppkey")
    return (
        partsupp.join(complained, left_on="ps_suppkey", right_on="s_suppkey", how="anti")
        .join(parts, left_on="ps_partkey", right_on="p_partkey")
        .group_by("p_brand", "p_type", "p_size")
        .agg(pl.col("ps_suppkey").n_unique().alias("supplier_cnt"))
        .sort(["supplier_cnt", "p_brand", "p_type", "p_size"], descending=[True, False, False, False])
    )


# -- Q17: small-quantity-order revenue ----------------------------------------------------
def q17(lineitem: pl.LazyFrame, part: pl.LazyFrame) -> pl.LazyFrame:
    parts = part.filter((pl.col("p_brand") == "Brand#23") & (pl.col("p_container") == "MED BOX")).select(
        "p_partkey"
    )
    items = lineitem.join(parts, left_on="l_partkey", right_on="p_partkey")
    limits = items.group_by("l_partkey").agg((0.2 * num("l_quantity").mean()).alias("limit"))
    return (
        items.join(limits, on="l_partkey")
        .filter(num("l_quantity") < pl.col("limit"))
        .select((sql_sum(num("l_extendedprice")) / 7.0).alias("avg_yearly"))
    )


# -- Q18: large volume customer -----------------------------------------------------------
def large_orders(lineitem: pl.LazyFrame) -> pl.LazyFrame:
    """Orders of more than 300 units, with their quantity."""
    return (
        lineitem.group_by("l_orderkey").agg(num("l_quantity").sum().alias("sum")).filter(pl.col("sum") > 300)
    )


def q18(customer: pl.LazyFrame, orders: pl.LazyFrame, large: pl.LazyFrame) -> pl.LazyFrame:
    return (
        orders.join(large, left_on="o_orderkey", right_on="l_orderkey")
        .join(customer, left_on="o_custkey", right_on="c_custkey")
        .rename({"o_custkey": "c_custkey"})
        .sort(["o_totalprice", "o_orderdate"], descending=[True, False])
        .head(100)
        .select("c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice", "sum")
    )


# -- Q19: discounted revenue --------------------------------------------------------------
def q19(lineitem: pl.LazyFrame, part: pl.LazyFrame) -> pl.LazyFrame:
    def bracket(brand: str, size: str, low: int, high_size: int) -> pl.Expr:
        containers = [f"{size} {kind}" for kind in ("CASE", "BOX", "PACK", "PKG", "BAG")]
        if size == "SM":
            containers.remove("SM BAG")
        elif size == "MED":
            containers.remove("MED CASE")
        else:
            containers.remove("LG BAG")
        return (
            (pl.col("p_brand") == brand)
            & pl.col("p_container").is_in(containers)
            & num("l_quantity").is_between(low, low + 10)
            & pl.col("p_size").is_between(1, high_size)
        )

    return (
        lineitem.filter(
            pl.col("l_shipmode").is_in(["AIR", "AIR REG"]) & (pl.col("l_shipinstruct") == "DELIVER IN PERSON")
        )
        .join(part, left_on="l_partkey", right_on="p_partkey")
        .filter(
            bracket("Brand#12", "SM", 1, 5)
            | bracket("Brand#23", "MED", 10, 10)
            | bracket("Brand#34", "LG", 20, 15)
        )
        .select(sql_sum(revenue()).alias("revenue"))
    )


# -- Q20: potential part promotion --------------------------------------------------------
def q20(
    supplier: pl.LazyFrame,
    nation: pl.LazyFrame,
    partsupp: pl.LazyFrame,
    part: pl.LazyFrame,
    lineitem: pl.LazyFrame,
) -> pl.LazyFrame:
    forest = part.filter(pl.col("p_name").str.starts_with("forest")).select("p_partkey")
    shipped = (
        lineitem.filter(year_of("l_shipdate", 1994))
        .group_by("l_partkey", "l_suppkey")
        .agg((0.5 * num("l_quantity").sum()).alias("half_shipped"))
    )
    excess = (
        partsupp.join(forest, left_on="ps_partkey", right_on="p_partkey", how="semi")
        .join(shipped, left_on=["ps_partkey", "ps_suppkey"], right_on=["l_partkey", "l_suppkey"])
        .filter(pl.col("ps_availqty") > pl.col("half_shipped"))
        .select("ps_suppkey")
    )
    canada = nation.filter(pl.col("n_name") == "CANADA").select("n_nationkey")
    return (
        supplier.join(canada, left_on="s_nationkey", right_on="n_nationkey")
        .join(excess, left_on="s_suppkey", right_on="ps_suppkey", how="semi")
        .sort("s_name")
        .select("s_name", "s_address")
    )


# -- Q21: suppliers who kept orders waiting -----------------------------------------------
def q21(
    supplier: pl.LazyFrame, lineitem: pl.LazyFrame, orders: pl.LazyFrame, nation: pl.LazyFrame
) -> pl.LazyFrame:
    late = pl.col("l_receiptdate") > pl.col("l_commitdate")
    per_order = lineitem.group_by("l_orderkey").agg(
        pl.col("l_suppkey").n_unique().alias("suppliers"),
        pl.col("l_suppkey").filter(late).n_unique().alias("late_suppliers"),
    )
    saudi = nation.filter(pl.col("n_name") == "SAUDI ARABIA").select("n_nationkey")
    suppliers = supplier.join(saudi, left_on="s_nationkey", right_on="n_nationkey").select(
        "s_suppkey", "s_name"
    )
    failed = orders.filter(pl.col("o_orderstatus") == "F").select("o_orderkey")
    return (
        lineitem.filter(late)
        .join(suppliers, left_on="l_suppkey", right_on="s_suppkey")
        .join(failed, left_on="l_orderkey", right_on="o_orderkey", how="semi")
        .join(per_order, on="l_orderkey")
        # another supplier on the order (exists), and none of them late but this one (not exists)
        .filter((pl.col("suppliers") > 1) & (pl.col("late_suppliers") == 1))
        .group_by("s_name")
        .agg(pl.len().alias("numwait"))
        .sort(["numwait", "s_name"], descending=[True, False])
        .head(100)
    )


# -- Q22: global sales opportunity --------------------------------------------------------
def q22(customer: pl.LazyFrame, orders: pl.LazyFrame) -> pl.LazyFrame:
    codes = ["13", "31", "23", "29", "30", "18", "17"]
    candidates = customer.with_columns(pl.col("c_phone").str.slice(0, 2).alias("cntrycode")).filter(
        pl.col("cntrycode").is_in(codes)
    )
    average = candidates.filter(num("c_acctbal") > 0.0).select(num("c_acctbal").mean().alias("average"))
    return (
        candidates.join(average, how="cross")
        .filter(num("c_acctbal") > pl.col("average"))
        .join(orders, left_on="c_custkey", right_on="o_custkey", how="anti")
        .group_by("cntrycode")
        .agg(pl.len().alias("numcust"), num("c_acctbal").sum().alias("totacctbal"))
        .sort("cntrycode")
    )


# -- the report over every answer of tpch_multi -------------------------------------------
def report(
    q1: pl.LazyFrame,
    q2: pl.LazyFrame,
    q3: pl.LazyFrame,
    q4: pl.LazyFrame,
    q5: pl.LazyFrame,
    q6: pl.LazyFrame,
    q7: pl.LazyFrame,
    q8: pl.LazyFrame,
    q9: pl.LazyFrame,
    q10: pl.LazyFrame,
    q11: pl.LazyFrame,
    q12: pl.LazyFrame,
    q13: pl.LazyFrame,
    q14: pl.LazyFrame,
    q15: pl.LazyFrame,
    q16: pl.LazyFrame,
    q17: pl.LazyFrame,
    q18: pl.LazyFrame,
    q19: pl.LazyFrame,
    q20: pl.LazyFrame,
    q21: pl.LazyFrame,
    q22: pl.LazyFrame,
) -> pl.LazyFrame:
    """One row per query: the number of rows of its answer."""
    answers = dict(locals())
    return pl.concat(
        frame.select(pl.lit(name).alias("query"), pl.len().cast(pl.Int64).alias("rows"))
        for name, frame in answers.items()
    )


# -- tpch_multi: every query as a branch, then the report ---------------------------------
TABLES = ("customer", "orders", "lineitem", "supplier", "nation", "region", "part", "partsupp")

# Steps in dependency order; each writes one output named after it (``q<n>`` for a query).
STEPS: dict[str, Callable[..., pl.LazyFrame]] = {
    "q1": q1,
    "europe_supply": europe_supply,
    "q2": q2,
    "building_orders": building_orders,
    "q3": q3,
    "q4": q4,
    "asia_suppliers": asia_suppliers,
    "q5": q5,
    "q6": q6,
    "q7": q7,
    "q8": q8,
    "q9": q9,
    "q10": q10,
    "germany_supply": germany_supply,
    "q11": q11,
    "q12": q12,
    "q13": q13,
    "q14": q14,
    "supplier_revenue": supplier_revenue,
    "q15": q15,
    "q16": q16,
    "q17": q17,
    "large_orders": large_orders,
    "q18": q18,
    "q19": q19,
    "q20": q20,
    "q21": q21,
    "q22": q22,
    "report": report,
}
QUERIES = tuple(range(1, 23))

# Parameters that read an earlier step's output; every other parameter names a table.
_FROM_STEP = {
    "q2": {"supply": "europe_supply"},
    "q3": {"orders": "building_orders"},
    "q5": {"suppliers": "asia_suppliers"},
    "q11": {"supply": "germany_supply"},
    "q15": {"quarter_revenue": "supplier_revenue"},
    "q18": {"large": "large_orders"},
    "report": {f"q{n}": f"q{n}" for n in QUERIES},
}


def inputs(step: str) -> dict[str, str]:
    """Parameter -> what it reads: a table in TABLES or an earlier step's output."""
    return {p: _FROM_STEP.get(step, {}).get(p, p) for p in inspect.signature(STEPS[step]).parameters}
