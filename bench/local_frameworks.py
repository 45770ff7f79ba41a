"""The TPC-H Q3/Q5 pipeline with the same functions, reads and writes, under Hamilton or
Kedro: ``python bench/local_frameworks.py hamilton|kedro DATA_DIR``."""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tpch_plain import FUNCS


def hamilton(base: Path) -> None:
    from hamilton import driver

    def scan(name: str) -> pl.LazyFrame:
        return pl.scan_parquet(base / f"{name}.parquet")

    def write(frame: pl.LazyFrame, name: str) -> pl.LazyFrame:
        frame.sink_parquet(base / f"work/{name}.parquet")
        return pl.scan_parquet(base / f"work/{name}.parquet")

    module = types.ModuleType("tpch_hamilton")

    def customer() -> pl.LazyFrame:
        return scan("customer")

    def orders() -> pl.LazyFrame:
        return scan("orders")

    def lineitem() -> pl.LazyFrame:
        return scan("lineitem")

    def supplier() -> pl.LazyFrame:
        return scan("supplier")

    def nation() -> pl.LazyFrame:
        return scan("nation")

    def region() -> pl.LazyFrame:
        return scan("region")

    def building(customer: pl.LazyFrame, orders: pl.LazyFrame) -> pl.LazyFrame:
        return write(FUNCS["building_orders"](customer, orders), "building")

    def q3(building: pl.LazyFrame, lineitem: pl.LazyFrame) -> pl.LazyFrame:
        return write(FUNCS["q3"](building, lineitem), "q3")

    def asia(supplier: pl.LazyFrame, nation: pl.LazyFrame, region: pl.LazyFrame) -> pl.LazyFrame:
        return write(FUNCS["asia_suppliers"](supplier, nation, region), "asia")

    def q5(
        customer: pl.LazyFrame, orders: pl.LazyFrame, lineitem: pl.LazyFrame, asia: pl.LazyFrame
    ) -> pl.LazyFrame:
        return write(FUNCS["q5"](customer, orders, lineitem, asia), "q5")

    for func in (customer, orders, lineitem, supplier, nation, region, building, q3, asia, q5):
        func.__module__ = module.__name__
        setattr(module, func.__name__, func)
    sys.modules[module.__name__] = module
    dr = driver.Builder().with_modules(module).build()
    dr.execute(["q3", "q5"])


def kedro(base: Path) -> None:
    from kedro.io import AbstractDataset, DataCatalog
    from kedro.pipeline import node, pipeline
    from kedro.runner import SequentialRunner

    class LazyParquet(AbstractDataset[pl.LazyFrame, pl.LazyFrame]):
        def __init__(self, path: Path) -> None:
            self.path = path

        def _load(self) -> pl.LazyFrame:
            return pl.scan_parquet(self.path)

        def _save(self, data: pl.LazyFrame) -> None:
            data.sink_parquet(self.path)

        def _describe(self) -> dict[str, Any]:
            return {"path": str(self.path)}

        def load(self) -> pl.LazyFrame:
            return self._load()

        def save(self, data: pl.LazyFrame) -> None:
            self._save(data)

    names = ["customer", "orders", "lineitem", "supplier", "nation", "region"]
    datasets: dict[str, AbstractDataset[Any, Any]] = {n: LazyParquet(base / f"{n}.parquet") for n in names}
    datasets |= {n: LazyParquet(base / f"work/{n}.parquet") for n in ("building", "q3", "asia", "q5")}
    catalog = DataCatalog(datasets)
    flow = pipeline(
        [
            node(FUNCS["building_orders"], ["customer", "orders"], "building"),
            node(FUNCS["q3"], ["building", "lineitem"], "q3"),
            node(FUNCS["asia_suppliers"], ["supplier", "nation", "region"], "asia"),
            node(FUNCS["q5"], ["customer", "orders", "lineitem", "asia"], "q5"),
        ]
    )
    SequentialRunner().run(flow, catalog)


if __name__ == "__main__":
    which, folder = sys.argv[1], Path(sys.argv[2]) / "tpch"
    (folder / "work").mkdir(exist_ok=True)
    {"hamilton": hamilton, "kedro": kedro}[which](folder)
