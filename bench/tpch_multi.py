"""One pipeline with all 22 TPC-H queries as independent branches (8 source tables, 29 tasks),
then a small report over the 22 answers.

    q1 --------------------------------\\
    europe_supply    -> q2 -------------\\
    building_orders  -> q3 --------------\\
    q4 -----------------------------------\\
    asia_suppliers   -> q5 ----------------\\
    q6, q7, q8, q9, q10 ---------------------> report
    germany_supply   -> q11 --------------/
    q12, q13, q14 ------------------------/
    supplier_revenue -> q15 ------------/
    q16, q17 --------------------------/
    large_orders     -> q18 ----------/
    q19, q20, q21, q22 --------------/

The steps and their inputs are ``tpch_queries.STEPS`` / ``inputs()``, which
``tpch_plain.py --multi`` runs too; outputs under ``tpch/work/multi/``. Importing this module
reads and writes nothing.
"""

from __future__ import annotations

from typing import Any

import tpch_queries as queries

from glacier import Pipeline, Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path="./data"))
local = provider.local()
NAME = "tpch_multi"
table = {name: provider.bucket("tpch", f"{name}.parquet") for name in queries.TABLES}

steps: dict[str, Pipeline] = {}
for step, func in queries.STEPS.items():
    sources: dict[str, Any] = {  # Pipeline(**sources) takes buckets and pipelines
        param: table[source] if source in queries.TABLES else steps[source]
        for param, source in queries.inputs(step).items()
    }
    output = provider.bucket("tpch", f"work/multi/{step}.parquet")
    steps[step] = Pipeline(name=NAME, **sources).transform(local.task(cache=True)(func)).to(output)

tpch_multi = steps["report"]
