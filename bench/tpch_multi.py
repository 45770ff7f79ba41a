"""One pipeline, four independent multi-join branches: TPC-H Q3, Q5, Q7 and Q10 (6 source
tables, 15 joins, 7 tasks), then a small report over the four answers.

    building_orders -> q3 ---\\
    asia_suppliers  -> q5 ----\\
    q7 ------------------------> report
    q10 ----------------------/

Same query functions as ``tpch_plain.py --multi`` (``tpch_queries.py``); outputs under
``tpch/work/multi/``. Importing this module reads and writes nothing.
"""

from __future__ import annotations

import tpch_queries as queries

from glacier import Pipeline, Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path="./data"))
local = provider.local()
TABLES = ("customer", "orders", "lineitem", "supplier", "nation", "region")
OUTPUTS = ("building", "q3", "asia", "q5", "q7", "q10", "report")
table = {name: provider.bucket("tpch", f"{name}.parquet") for name in TABLES}
work = {name: provider.bucket("tpch", f"work/multi/{name}.parquet") for name in OUTPUTS}


tasks = {
    name: local.task(cache=True)(func)
    for name, func in (
        ("building_orders", queries.building_orders),
        ("q3", queries.q3),
        ("asia_suppliers", queries.asia_suppliers),
        ("q5", queries.q5),
        ("q7", queries.q7),
        ("q10", queries.q10),
        ("report", queries.report),
    )
}

NAME = "tpch_multi"
building = (
    Pipeline(name=NAME, customer=table["customer"], orders=table["orders"])
    .transform(tasks["building_orders"])
    .to(work["building"])
)
q3 = Pipeline(name=NAME, orders=building, lineitem=table["lineitem"]).transform(tasks["q3"]).to(work["q3"])
asia = (
    Pipeline(name=NAME, supplier=table["supplier"], nation=table["nation"], region=table["region"])
    .transform(tasks["asia_suppliers"])
    .to(work["asia"])
)
q5 = (
    Pipeline(
        name=NAME,
        customer=table["customer"],
        orders=table["orders"],
        lineitem=table["lineitem"],
        suppliers=asia,
    )
    .transform(tasks["q5"])
    .to(work["q5"])
)
q7 = (
    Pipeline(
        name=NAME,
        supplier=table["supplier"],
        lineitem=table["lineitem"],
        orders=table["orders"],
        customer=table["customer"],
        nation=table["nation"],
    )
    .transform(tasks["q7"])
    .to(work["q7"])
)
q10 = (
    Pipeline(
        name=NAME,
        customer=table["customer"],
        orders=table["orders"],
        lineitem=table["lineitem"],
        nation=table["nation"],
    )
    .transform(tasks["q10"])
    .to(work["q10"])
)
tpch_multi = Pipeline(name=NAME, q3=q3, q5=q5, q7=q7, q10=q10).transform(tasks["report"]).to(work["report"])
