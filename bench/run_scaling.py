"""Does the local runner schedule in linear time? A chain of N tiny tasks (1,000 rows each)
run end to end with ``run_pipeline``, for N=1,000 and N=4,000 (and 2,000, the issue's
figure), beside a plain Polars loop doing the same scans and sinks. ``--layout flat`` keeps
every dataset in one folder, ``nested`` gives each its own (the write path looks for stale
staging files in the target's folder, which costs more the fuller that folder is). Prints the seconds of
each and the 4,000 / 1,000 ratio: linear is about 4x, the goal at most 4.5x.

    .venv/bin/python bench/run_scaling.py [--sizes 1000 2000 4000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import polars as pl

from glacier.config import LambdaConfig, LocalConfig
from glacier.dag.build import DatasetRef, StepSpec, build_dag
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import ExecutorSpec, TaskDefinition
from glacier.runner import run_pipeline

ROWS = 1_000


def step(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(pl.col("value") + 1)


def dataset_path(i: int, layout: str) -> str:
    """``flat``: every dataset in one folder; ``nested``: one folder per dataset."""
    return f"d{i:05d}.parquet" if layout == "flat" else f"d{i:05d}/data.parquet"


def chain(n: int, base: Path, layout: str = "flat") -> CompiledPipeline:
    """t00001 reads the source; each next task reads the one before it."""
    steps = []
    for i in range(1, n + 1):
        definition = TaskDefinition(
            name=f"t{i:05d}",
            executor=ExecutorSpec(kind="local", config=LambdaConfig()),
            code_ref=f"{__name__}:step",
            code_hash="0" * 64,
            required_params=("df",),
        )
        steps.append(
            StepSpec(
                task=definition,
                inputs=(("df", DatasetRef("bench", dataset_path(i - 1, layout))),),
                output=DatasetRef("bench", dataset_path(i, layout)),
            )
        )
    dag = build_dag(f"chain_{n}", steps, storage=LocalConfig(base_path=str(base)))
    return CompiledPipeline(dag=dag, functions={f"t{i:05d}": step for i in range(1, n + 1)})


def _source(base: Path, layout: str) -> Path:
    path = base / "bench" / dataset_path(0, layout)
    path.parent.mkdir(parents=True, exist_ok=True)
    pl.DataFrame({"id": range(ROWS), "value": range(ROWS)}).write_parquet(path)
    return path


def time_glacier(n: int, layout: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        _source(base, layout)
        compiled = chain(n, base, layout)
        started = time.perf_counter()
        run_pipeline(compiled, state_dir=base / ".glacier")
        return time.perf_counter() - started


def time_plain(n: int, layout: str) -> float:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        _source(base, layout)
        started = time.perf_counter()
        for i in range(1, n + 1):
            target = base / "bench" / dataset_path(i, layout)
            target.parent.mkdir(parents=True, exist_ok=True)
            step(pl.scan_parquet(base / "bench" / dataset_path(i - 1, layout))).sink_parquet(target)
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 2_000, 4_000])
    parser.add_argument("--layout", choices=("flat", "nested"), default="flat")
    args = parser.parse_args()
    seconds: dict[int, float] = {}
    for n in args.sizes:
        seconds[n] = time_glacier(n, args.layout)
        plain = time_plain(n, args.layout)
        ratio = seconds[n] / plain
        print(f"{n:>6} tasks: glacier {seconds[n]:7.2f} s, plain loop {plain:7.2f} s ({ratio:.2f}x)")
    if 1_000 in seconds and 4_000 in seconds:
        print(f"4,000 / 1,000 tasks: {seconds[4_000] / seconds[1_000]:.2f}x (linear ~4x, goal <= 4.5x)")


if __name__ == "__main__":
    main()
