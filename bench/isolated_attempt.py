"""What an isolated attempt costs: one attempt of a small task in a child process (start a
Python, import Polars, Glacier's runtime and the task's module, stage, publish with the
parent's leave) against the same attempt in-process, side by side in one run.

    PYTHONPATH=. .venv/bin/python bench/isolated_attempt.py --repeats 5

Only tasks with ``timeout=`` pay this (glacier.runner.attempt); the timeout counts from the
moment the child has imported the task, so the start-up is not charged to the task.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from glacier.dsl import load_pipelines
from glacier.io import CancelToken, dataset_uri
from glacier.runner.isolated import run_isolated
from glacier.runtime import core
from glacier.runtime.event import TaskEvent

_MODULE = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={data!r}))


@provider.local().task(timeout=60)
def small(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(b=pl.col("a") * 2)


p = provider.bucket("lake", "in.parquet").transform(small).to(provider.bucket("lake", "out.parquet"))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        (data / "lake").mkdir(parents=True)
        pl.DataFrame({"a": list(range(1000))}).write_parquet(data / "lake" / "in.parquet")
        file = Path(tmp) / "bench_isolated.py"
        file.write_text(_MODULE.format(data=str(data)))
        (compiled,) = load_pipelines(str(file)).pipelines
        dag = compiled.dag
        task = dag.tasks[0]
        event = TaskEvent.for_task(dag, task, lambda ds: dataset_uri(ds, dag.storage), "bench", None)
        func = compiled.functions[task.name]
        isolated, inline = [], []
        for _ in range(args.repeats):  # interleaved: both see the same machine load
            started = time.perf_counter()
            run_isolated(task, event, None, CancelToken(), 60)
            isolated.append(time.perf_counter() - started)
            started = time.perf_counter()
            core.execute_task(event, func, None)
            inline.append(time.perf_counter() - started)
    print(f"python {sys.version.split()[0]}, polars {pl.__version__}, {args.repeats} repeats")
    print(f"isolated attempt: median {statistics.median(isolated):.3f} s, min {min(isolated):.3f} s")
    print(f"in-process attempt: median {statistics.median(inline):.3f} s, min {min(inline):.3f} s")
    print(f"overhead per attempt: median {statistics.median(isolated) - statistics.median(inline):.3f} s")


if __name__ == "__main__":
    main()
