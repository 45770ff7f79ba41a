"""Does deriving and checking schemas scale linearly with the number of steps?

The pipeline of ``build_scaling.py`` (N steps, every 10th a two-source join that also reads an
earlier intermediate), built straight from the DAG layer (``build_dag``), with its source
declared ``{"id": Int64, "value": Int64}`` and every 100th output declared too. Times
``derive_schemas`` alone — each task called once on empty LazyFrames, its result's schema
resolved, declared outputs compared — for N=1,000 and N=4,000, several times interleaved, and
prints the best CPU time of each and the 4,000 / 1,000 ratio (linear = 4x, goal <= 4.5x).

    .venv/bin/python bench/schema_scaling.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import gc
import time

import polars as pl

from glacier.config import LambdaConfig, LocalConfig
from glacier.dag.build import DatasetRef, StepSpec, build_dag
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import ExecutorSpec, TaskDefinition
from glacier.dag.schema import DatasetSchema
from glacier.schema.derive import derive_schemas

JOIN_EVERY = 10
DECLARE_EVERY = 100
SIZES = (1_000, 4_000)
SCHEMA = {"id": "Int64", "value": "Int64"}


def step(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.col("value") + 1)


def join(df: pl.LazyFrame, lookup: pl.LazyFrame) -> pl.LazyFrame:
    return df.join(lookup.select("id", bonus=pl.col("value")), on="id", how="left").select(
        "id", value=pl.col("value") + pl.col("bonus").fill_null(0)
    )


def _definition(name: str, params: tuple[str, ...]) -> TaskDefinition:
    return TaskDefinition(
        name=name,
        executor=ExecutorSpec(kind="local", config=LambdaConfig()),
        code_ref=f"schema_scaling:{'join' if len(params) == 2 else 'step'}",
        code_hash="0" * 64,
        required_params=params,
    )


def pipeline(n: int) -> tuple[CompiledPipeline, dict[str, DatasetSchema]]:
    data = [DatasetRef("bench", f"data/d{i:05d}.parquet") for i in range(n + 1)]
    specs, functions = [], {}
    for i in range(1, n + 1):
        joined = i % JOIN_EVERY == 0
        name = f"{'join' if joined else 'step'}_{i:05d}"
        inputs = (("df", data[i - 1]), ("lookup", data[i - 5])) if joined else (("df", data[i - 1]),)
        specs.append(StepSpec(_definition(name, tuple(p for p, _ in inputs)), inputs, data[i]))
        functions[name] = join if joined else step
    dag = build_dag(f"bench_{n}", specs, storage=LocalConfig(base_path="./bench-data"))
    declared = {ref.id: DatasetSchema(columns=SCHEMA) for i, ref in enumerate(data) if i % DECLARE_EVERY == 0}
    return CompiledPipeline(dag=dag, functions=functions), declared


def measure(n: int) -> float:
    compiled, declared = pipeline(n)
    gc.collect()
    start = time.process_time()
    result = derive_schemas(compiled, declared)
    elapsed = time.process_time() - start
    if result.problems or result.notes or len(result.schemas) != n + 1:
        raise SystemExit(f"{n} steps: {result.problems[:1]} {result.notes[:1]} {len(result.schemas)} schemas")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    measure(200)  # warm imports and caches
    runs: dict[int, list[float]] = {n: [] for n in SIZES}
    for _ in range(args.repeats):
        for n in SIZES:
            runs[n].append(measure(n))
    small, large = SIZES
    for n in SIZES:
        print(f"derive {n:>5} steps: best {min(runs[n]) * 1e3:8.1f} ms CPU ({args.repeats} runs)")
    ratio = min(runs[large]) / min(runs[small])
    verdict = "OK" if ratio <= 4.5 else "ABOVE GOAL"
    print(f"ratio {large:,} / {small:,} steps = {ratio:.2f}x (linear = 4.00x, goal <= 4.5x) -> {verdict}")


if __name__ == "__main__":
    main()
