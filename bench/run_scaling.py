"""Does the local runner schedule in linear time? A chain of N tiny tasks (1,000 rows each)
run end to end with ``run_pipeline``, for N=1,000 and N=4,000 (and 2,000, the issue's
figure), beside a plain Polars loop doing the same scans and sinks. ``--layout flat`` keeps
every dataset in one folder, ``nested`` gives each its own (the write path looks for stale
staging files in the target's folder once per run). ``--repeat`` alternates the two and
prints medians. Prints the seconds of each and the 4,000 / 1,000 ratio: linear is about 4x,
the goal at most 4.5x.

    .venv/bin/python bench/run_scaling.py [--sizes 1000 2000 4000] [--layout flat|nested] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
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


Timing = tuple[float, float]  # (wall seconds, CPU seconds of this process, all threads)


def time_glacier(n: int, layout: str) -> Timing:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        _source(base, layout)
        compiled = chain(n, base, layout)
        started, cpu = time.perf_counter(), time.process_time()
        run_pipeline(compiled, state_dir=base / ".glacier")
        return time.perf_counter() - started, time.process_time() - cpu


def time_plain(n: int, layout: str) -> Timing:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        _source(base, layout)
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(1, n + 1):
            target = base / "bench" / dataset_path(i, layout)
            target.parent.mkdir(parents=True, exist_ok=True)
            step(pl.scan_parquet(base / "bench" / dataset_path(i - 1, layout))).sink_parquet(target)
        return time.perf_counter() - started, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 2_000, 4_000])
    parser.add_argument("--layout", choices=("flat", "nested"), default="flat")
    parser.add_argument("--repeat", type=int, default=1, help="alternating runs of each; medians")
    args = parser.parse_args()
    seconds: dict[int, float] = {}
    cpu_seconds: dict[int, float] = {}
    print(f"layout {args.layout}, load average at start {os.getloadavg()[0]:.1f}")
    for n in args.sizes:
        ours, plain = [], []
        for _ in range(args.repeat):  # alternating, so both see the same machine load
            ours.append(time_glacier(n, args.layout))
            plain.append(time_plain(n, args.layout))
        seconds[n], loop = (statistics.median(t[0] for t in runs) for runs in (ours, plain))
        cpu_seconds[n], loop_cpu = (statistics.median(t[1] for t in runs) for runs in (ours, plain))
        print(
            f"{n:>6} tasks: glacier {seconds[n]:7.2f} s, plain loop {loop:7.2f} s "
            f"({seconds[n] / loop:.2f}x; {1000 * (seconds[n] - loop) / n:+.2f} ms per task) | CPU "
            f"glacier {cpu_seconds[n]:.2f} s, plain {loop_cpu:.2f} s ({cpu_seconds[n] / loop_cpu:.2f}x) "
            f"| load {os.getloadavg()[0]:.1f} | raw wall glacier {[round(t[0], 2) for t in ours]} "
            f"plain {[round(t[0], 2) for t in plain]}",
            flush=True,
        )
    if 1_000 in seconds and 4_000 in seconds:
        print(
            f"4,000 / 1,000 tasks: {seconds[4_000] / seconds[1_000]:.2f}x wall, "
            f"{cpu_seconds[4_000] / cpu_seconds[1_000]:.2f}x CPU (linear ~4x, goal <= 4.5x)"
        )


if __name__ == "__main__":
    main()
