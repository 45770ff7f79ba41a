"""Local runtime benchmarks at TPC-H scale factor 1 (results: bench/results/local_runtime.md).

    .venv/bin/python bench/local_bench.py [--sf 1] [--repeat 3] [--workdir bench/.work/tpch]

1. whole-process ``glacier run bench/tpch_pipelines.py`` vs ``bench/tpch_plain.py`` (same
   functions, reads and writes), alternating, median of ``--repeat`` runs each;
2. a rerun with everything cached vs the full run;
3. peak RSS of a streaming-capable task run by Glacier vs Polars' own ``sink_parquet``;
4. the same pipeline and functions under Hamilton and Kedro.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
PY = sys.executable
GLACIER = [PY, "-c", "from glacier.cli import main; main()"]

_STREAM_TASK = """
import sys
sys.path.insert(0, {bench!r})
from glacier import Provider
from glacier.config import LocalConfig
from tpch_plain import peak_rss_kb, streaming_query

provider = Provider(config=LocalConfig(base_path={data!r}))

@provider.local().task()
def stream(lineitem):
    return streaming_query(lineitem)

lineitem = provider.bucket("tpch", "lineitem.parquet")
lineitem.transform(stream).to(provider.bucket("tpch", "work/glacier_stream.parquet")).run(state_dir={state!r})
print(f"maxrss_kb={{peak_rss_kb()}}")
"""


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, proc.stdout


def maxrss(output: str) -> int:
    match = re.search(r"maxrss_kb=(\d+)", output)
    assert match, output
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sf", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work/tpch"))
    args = parser.parse_args()
    data = args.workdir.resolve()
    sys.path.insert(0, str(BENCH))

    if not (data / "tpch/lineitem.parquet").exists():
        print(f"generating TPC-H SF{args.sf:g} into {data} ...", flush=True)
        # In a child process: this one's peak memory must not leak into the measurements.
        code = f"import tpch_pipelines as t, pathlib; t.generate(pathlib.Path({str(data)!r}), {args.sf})"
        subprocess.run([PY, "-c", code], check=True, cwd=BENCH)
    pipelines = str(BENCH / "tpch_pipelines.py")
    glacier_times, plain_times = [], []
    for i in range(args.repeat):
        state = data / f"state-full-{i}"
        shutil.rmtree(state, ignore_errors=True)
        glacier_times.append(
            timed(
                [*GLACIER, "run", pipelines, "--data-dir", str(data), "--state-dir", str(state), "--quiet"]
            )[0]
        )
        plain_times.append(timed([PY, str(BENCH / "tpch_plain.py"), str(data)])[0])
    cached_times = [
        timed([*GLACIER, "run", pipelines, "--data-dir", str(data), "--state-dir", str(state), "--quiet"])[0]
        for _ in range(args.repeat)
    ]
    g, p, c = (statistics.median(t) for t in (glacier_times, plain_times, cached_times))
    print(f"full run   glacier {g:.2f} s | plain polars {p:.2f} s | ratio {g / p:.3f}")
    print(f"cached     glacier {c:.2f} s | {100 * c / g:.1f}% of the full run (whole process)")
    from glacier.runner import History

    def run_seconds(folder: Path) -> float:
        runs = History(folder).runs(limit=2)  # the two pipelines of the latest `glacier run`
        return sum(r.seconds or 0.0 for r in runs)

    full_in, cached_in = run_seconds(data / "state-full-0"), run_seconds(state)
    print(
        f"in-process pipeline time: full {full_in:.3f} s | cached {cached_in:.3f} s "
        f"| {100 * cached_in / full_in:.1f}% (excludes interpreter start and imports)"
    )

    state = data / "state-stream"
    glacier_rss_runs, polars_rss_runs = [], []
    for _ in range(args.repeat):  # alternating; the median of each
        task = _STREAM_TASK.format(bench=str(BENCH), data=str(data), state=str(state))
        glacier_rss_runs.append(maxrss(timed([PY, "-c", task])[1]))
        polars_rss_runs.append(maxrss(timed([PY, str(BENCH / "tpch_plain.py"), str(data), "--only-sink"])[1]))
    glacier_rss, polars_rss = statistics.median(glacier_rss_runs), statistics.median(polars_rss_runs)
    print(
        f"peak RSS   glacier task {glacier_rss / 1024:.0f} MB | "
        f"polars sink_parquet {polars_rss / 1024:.0f} MB | ratio {glacier_rss / polars_rss:.3f}"
    )

    frameworks = {}
    for name in ("hamilton", "kedro"):
        seconds, _ = timed([PY, str(BENCH / "local_frameworks.py"), name, str(data)])
        frameworks[name] = seconds
    print(
        "frameworks "
        + " | ".join(f"{n} {s:.2f} s" for n, s in frameworks.items())
        + f" | glacier {g:.2f} s | plain {p:.2f} s"
    )
    print("raw:", {"glacier": glacier_times, "plain": plain_times, "cached": cached_times})
    print("raw peak RSS KB:", {"glacier": glacier_rss_runs, "polars": polars_rss_runs})


if __name__ == "__main__":
    main()
