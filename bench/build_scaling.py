"""Does building and validating a pipeline scale linearly with its number of steps?

Builds an N-step pipeline from scratch (decorate N tasks, declare N+1 buckets, chain them,
every 10th step a two-source join that also reads an earlier intermediate), then compiles it
to the validated typed DAG (``to_dag()``: lineage walk, dataset/task nodes, topological order,
graph validation). It does this for N=1,000 and N=4,000, in both composition styles
(chainable buckets, and the ``Pipeline(name=...)`` factory), interleaved, several times, and
prints the best (and median) CPU time of each and the 4,000 / 1,000 ratio. Linear is about
4x; the goal is at most 4.5x (Kedro and Hamilton both shipped quadratic pipeline building).
Each size is timed twice: with CPython's cyclic collector paused while timing (as ``timeit``
does), and with it on. With ``--schemas`` every dataset declares its schema, so ``to_dag()``
also calls every task on empty frames and compares what it produces to the declaration.

    .venv/bin/python bench/build_scaling.py [--repeats 9] [--schemas]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import polars as pl

from glacier import Bucket, Pipeline, Provider, Task
from glacier.config import LocalConfig

JOIN_EVERY = 10
SIZES = (1_000, 4_000)
STYLES = ("chain", "factory")


def _step(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.col("value") + 1)


def _join(df: pl.LazyFrame, lookup: pl.LazyFrame) -> pl.LazyFrame:
    # Only the key from the lookup: every dataset keeps the columns (id, value), so joins
    # later in the chain do not meet a `value_right` column from an earlier one.
    return df.join(lookup.select("id"), on="id", how="left")


SCHEMA = {"id": pl.Int64, "value": pl.Int64}
DECLARED = False  # --schemas: every dataset declares SCHEMA (checked by to_dag on empty frames)


def _declare(n: int) -> tuple[list[Task], list[Bucket]]:
    provider = Provider(config=LocalConfig(base_path="./bench-data"))
    executor = provider.local()
    tasks = [
        executor.task(name=f"{'join' if i % JOIN_EVERY == 0 else 'step'}_{i:05d}")(
            _join if i % JOIN_EVERY == 0 else _step
        )
        for i in range(1, n + 1)
    ]
    schema = SCHEMA if DECLARED else None
    buckets = [provider.bucket("bench", f"data/d{i:05d}.parquet", schema=schema) for i in range(n + 1)]
    return tasks, buckets


def build_chain(n: int) -> Any:
    tasks, buckets = _declare(n)
    head: Any = buckets[0]
    for i, (task, target) in enumerate(zip(tasks, buckets[1:], strict=True), start=1):
        if i % JOIN_EVERY == 0:
            head = Pipeline(df=head, lookup=buckets[i - 5]).transform(task).to(target)
        else:
            head = head.transform(task).to(target)
    return head.with_name("bench_chain")


def build_factory(n: int) -> Any:
    tasks, buckets = _declare(n)
    pipeline = Pipeline(name="bench_factory").source(buckets[0])
    for i, (task, target) in enumerate(zip(tasks, buckets[1:], strict=True), start=1):
        if i % JOIN_EVERY == 0:
            pipeline = pipeline.sources(df=pipeline, lookup=buckets[i - 5])
        pipeline = pipeline.transform(task).to(target)
    return pipeline


BUILDERS: dict[str, Callable[[int], Any]] = {"chain": build_chain, "factory": build_factory}


def measure(style: str, n: int, *, collector: bool) -> tuple[float, float]:
    """CPU seconds of this process to build, and to compile+validate, an n-step pipeline.

    CPU time rather than wall time: the machine is shared, and time spent waiting for a core
    says nothing about how the work scales. With ``collector=False`` CPython's cyclic garbage
    collector is paused while timing (as ``timeit`` does by default): what remains is the
    work Glacier does. With it on, the timings also carry the collector's full passes over
    the whole process heap, which fall at discrete points as the heap grows."""
    gc.collect()
    if not collector:
        gc.disable()
    try:
        start = time.process_time()
        definition = BUILDERS[style](n)
        built = time.process_time()
        dag = definition.to_dag()
        done = time.process_time()
    finally:
        gc.enable()
    if len(dag.tasks) != n:
        raise SystemExit(f"{style} {n}: the DAG has {len(dag.tasks)} tasks, expected {n}")
    return built - start, done - built


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument(
        "--schemas", action="store_true", help="declare every dataset's schema (derived and checked)"
    )
    args = parser.parse_args()
    global DECLARED
    DECLARED = args.schemas

    runs: dict[tuple[bool, str, int], list[tuple[float, float]]] = {}
    for style in STYLES:
        measure(style, 200, collector=True)  # warm imports and caches
    for _ in range(args.repeats):
        for collector in (False, True):
            for style in STYLES:
                for n in SIZES:
                    runs.setdefault((collector, style, n), []).append(measure(style, n, collector=collector))

    def best(key: tuple[bool, str, int], part: int | None = None) -> float:
        return min(sum(r) if part is None else r[part] for r in runs[key])

    def median(key: tuple[bool, str, int]) -> float:
        return statistics.median(sum(r) for r in runs[key])

    small, large = SIZES
    declared = ", every dataset with a declared schema" if DECLARED else ""
    print(
        f"CPU time, best of {args.repeats} runs{declared} "
        "(build = declare tasks/buckets + chain; compile = to_dag)"
    )
    header = f"{'gc':<4} {'style':<8} {'steps':>6} {'build ms':>9} {'compile ms':>11} {'total ms':>9}"
    print(f"{header} {'median ms':>10}")
    for collector in (False, True):
        for style in STYLES:
            for n in SIZES:
                key = (collector, style, n)
                print(
                    f"{'on' if collector else 'off':<4} {style:<8} {n:>6} {best(key, 0) * 1e3:>9.1f}"
                    f" {best(key, 1) * 1e3:>11.1f} {best(key) * 1e3:>9.1f} {median(key) * 1e3:>10.1f}"
                )
    worst = {False: 0.0, True: 0.0}
    for collector in (False, True):
        for style in STYLES:
            ratio = best((collector, style, large)) / best((collector, style, small))
            by_median = median((collector, style, large)) / median((collector, style, small))
            worst[collector] = max(worst[collector], ratio)
            print(
                f"ratio gc {'on ' if collector else 'off'} {style:<8}: {large:,} / {small:,} steps = "
                f"{ratio:.2f}x best, {by_median:.2f}x median (linear = 4.00x, goal <= 4.5x)"
            )
    for collector in (False, True):
        verdict = "OK" if worst[collector] <= 4.5 else "ABOVE GOAL"
        print(f"worst ratio, collector {'on ' if collector else 'off'}: {worst[collector]:.2f}x -> {verdict}")


if __name__ == "__main__":
    main()
