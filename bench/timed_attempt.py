"""What one ``timeout=`` attempt costs end to end: a one-task pipeline whose task has a
timeout (so its attempt runs in a child process, ``glacier.runner.isolated``), 1,000 rows,
run from a fresh state folder ``--repeat`` times; prints each run's seconds and the median.

    .venv/bin/python bench/timed_attempt.py [--repeat 9]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import textwrap
import time
from pathlib import Path

import polars as pl

from glacier.dsl import load_pipelines
from glacier.runner import run_pipeline

PIPELINE = """
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

provider = Provider(config=LocalConfig(base_path={data!r}))


@provider.local().task(timeout=30)
def quick(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.with_columns(doubled=pl.col("n") * 2)


p = provider.bucket("lake", "in.parquet").transform(quick).to(provider.bucket("lake", "out.parquet"))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="glacier-timed-") as tmp:
        root = Path(tmp)
        (root / "data/lake").mkdir(parents=True)
        pl.DataFrame({"n": range(1000)}).write_parquet(root / "data/lake/in.parquet")
        file = root / "timed_pipeline.py"
        file.write_text(textwrap.dedent(PIPELINE.format(data=str(root / "data"))))
        (compiled,) = load_pipelines(str(file)).pipelines
        times = []
        for _ in range(args.repeat):
            shutil.rmtree(root / "state", ignore_errors=True)
            started = time.perf_counter()
            run_pipeline(compiled, state_dir=root / "state")
            times.append(time.perf_counter() - started)
    runs = [round(t, 3) for t in times]
    print(f"one timed attempt, whole run: {runs} median {statistics.median(times):.3f} s")


if __name__ == "__main__":
    main()
