"""Local runtime benchmarks at TPC-H scale factor 1 (results: bench/results/local_runtime.md).

    .venv/bin/python bench/local_bench.py [--sf 1] [--repeat 5] [--workdir bench/.work/tpch]

1. start-up: ``python -c 'from glacier.cli import main'`` vs ``python -c 'import polars'``;
2. for each workload, whole-process ``glacier run`` vs the plain Polars script doing the same
   reads and writes (``tpch_plain.py``), alternating, median of ``--repeat`` runs each, the
   outputs checked equal; then a rerun with everything cached, and the peak RSS (VmHWM) of
   one more full run of each. Workloads: ``q3q5`` (``tpch_pipelines.py``: 2 pipelines,
   4 tasks) and ``multi`` (``tpch_multi.py``: one pipeline, all 22 TPC-H queries as
   independent branches + a report, 29 tasks; every answer checked against the official one);
3. peak RSS of a streaming-capable task run by Glacier vs Polars' own ``sink_parquet``;
4. the q3q5 pipeline and functions under Hamilton and Kedro.

Child processes run with bytecode caching on (``PYTHONPYCACHEPREFIX`` under the workdir, even
if ``PYTHONDONTWRITEBYTECODE`` is set here), as an installed package has its ``.pyc`` files,
and one untimed warm-up run of each command comes first.
"""

from __future__ import annotations

import argparse
import os
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


ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}

# Prints this process's peak RSS when `glacier run` exits (only for the untimed memory run).
_PRINT_HWM = (
    "import atexit, re; atexit.register(lambda: print('maxrss_kb=' + "
    "re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1))); "
)
GLACIER_RSS = [PY, "-c", _PRINT_HWM + "from glacier.cli import main; main()"]


def multi_outputs() -> list[str]:
    import tpch_queries

    return list(tpch_queries.STEPS)


# name -> (pipeline file, plain script flags, pipelines per run, outputs to compare
# as (glacier path, plain path) under tpch/work/)
WORKLOADS = {
    "q3q5": (
        "tpch_pipelines.py",
        [],
        2,
        lambda: [(f"{n}.parquet", f"plain/{n}.parquet") for n in ("q3", "q5")],
    ),
    "multi": (
        "tpch_multi.py",
        ["--multi"],
        1,
        lambda: [(f"multi/{n}.parquet", f"plain_multi/{n}.parquet") for n in multi_outputs()],
    ),
}


def timed(cmd: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, check=True, capture_output=True, text=True, env=ENV)
    return time.perf_counter() - start, proc.stdout


def median_ms(cmd: list[str], repeat: int) -> float:
    timed(cmd)  # warm-up
    return 1000 * statistics.median(timed(cmd)[0] for _ in range(repeat))


def maxrss(output: str) -> int:
    match = re.search(r"maxrss_kb=(\d+)", output)
    assert match, output
    return int(match.group(1))


def check_equal(base: Path, pairs: list[tuple[str, str]]) -> None:
    import polars as pl
    from polars.testing import assert_frame_equal

    for ours, plain in pairs:  # intermediate steps have no ORDER BY: rows in any order
        assert_frame_equal(pl.read_parquet(base / ours), pl.read_parquet(base / plain), check_row_order=False)


def check_answers(base: Path, scale_factor: float) -> None:
    """tpch_multi's 22 answers against the official ones (DuckDB's tpch extension)."""
    import polars as pl
    import tpch_pipelines
    import tpch_queries

    for query in tpch_queries.QUERIES:
        tpch_pipelines.check_answer(query, pl.read_parquet(base / f"multi/q{query}.parquet"), scale_factor)
    print(f"[multi] all {len(tpch_queries.QUERIES)} queries equal the official answers at SF{scale_factor:g}")


def workload(name: str, data: Path, repeat: int) -> tuple[float, float]:
    from glacier.runner import History

    file, flags, per_run, outputs = WORKLOADS[name]
    pipelines = str(BENCH / file)
    plain = [PY, str(BENCH / "tpch_plain.py"), str(data), *flags]

    def glacier(state: Path, command: list[str] = GLACIER) -> list[str]:
        return [*command, "run", pipelines, "--data-dir", str(data), "--state-dir", str(state), "--quiet"]

    timed(plain)  # warm-up: bytecode and page cache
    glacier_times, plain_times = [], []
    for i in range(repeat):
        state = data / f"state-{name}-{i}"
        shutil.rmtree(state, ignore_errors=True)
        glacier_times.append(timed(glacier(state))[0])
        plain_times.append(timed(plain)[0])
    check_equal(data / "tpch/work", outputs())

    def run_seconds(folder: Path) -> float:  # the latest `glacier run` in that history
        return sum(r.seconds or 0.0 for r in History(folder).runs(limit=per_run))

    full_in = run_seconds(data / f"state-{name}-0")
    cached_times = [timed(glacier(state))[0] for _ in range(repeat)]
    g, p, c = (statistics.median(t) for t in (glacier_times, plain_times, cached_times))
    print(
        f"[{name}] full run   glacier {g:.3f} s | plain polars {p:.3f} s | ratio {g / p:.3f} "
        f"| difference {1000 * (g - p):+.0f} ms"
    )
    print(f"[{name}] cached     glacier {c:.3f} s | {100 * c / g:.1f}% of the full run (whole process)")

    cached_in = run_seconds(state)
    print(
        f"[{name}] in-process pipeline time: full {full_in:.3f} s | cached {cached_in:.4f} s "
        f"| {100 * cached_in / full_in:.1f}% (excludes interpreter start, imports, pipeline load)"
    )
    print(f"[{name}] raw:", {"glacier": glacier_times, "plain": plain_times, "cached": cached_times})

    fresh = data / f"state-{name}-rss"
    shutil.rmtree(fresh, ignore_errors=True)
    glacier_rss, plain_rss = maxrss(timed(glacier(fresh, GLACIER_RSS))[1]), maxrss(timed(plain)[1])
    print(
        f"[{name}] peak RSS of one full run: glacier {glacier_rss / 1024:.0f} MB | "
        f"plain polars {plain_rss / 1024:.0f} MB | ratio {glacier_rss / plain_rss:.3f}"
    )
    return g, p


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sf", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work/tpch"))
    parser.add_argument("--skip-extras", action="store_true", help="Only start-up and the run times.")
    args = parser.parse_args()
    data = args.workdir.resolve()
    ENV["PYTHONPYCACHEPREFIX"] = str(data / "pycache")
    sys.path.insert(0, str(BENCH))

    if not (data / "tpch/lineitem.parquet").exists():
        print(f"generating TPC-H SF{args.sf:g} into {data} ...", flush=True)
        # In a child process: this one's peak memory must not leak into the measurements.
        code = f"import tpch_pipelines as t, pathlib; t.generate(pathlib.Path({str(data)!r}), {args.sf})"
        subprocess.run([PY, "-c", code], check=True, cwd=BENCH)

    bare = median_ms([PY, "-c", "pass"], 2 * args.repeat)
    polars_ms = median_ms([PY, "-c", "import polars"], 2 * args.repeat)
    cli_ms = median_ms([PY, "-c", "from glacier.cli import main"], 2 * args.repeat)
    run_ms = median_ms([PY, "-c", "import polars, glacier.cli, glacier.dsl, glacier.runner"], 2 * args.repeat)
    print(
        f"start-up   python {bare:.0f} ms | import polars {polars_ms:.0f} ms | "
        f"from glacier.cli import main {cli_ms:.0f} ms | "
        f"polars + glacier.cli + dsl + runner {run_ms:.0f} ms (+{run_ms - polars_ms:.0f} ms over polars)"
    )
    g, p = 0.0, 0.0
    for name in WORKLOADS:
        result = workload(name, data, args.repeat)
        if name == "q3q5":
            g, p = result
    if args.sf in (0.01, 0.1, 1):
        check_answers(data / "tpch/work", args.sf)
    if args.skip_extras:
        return

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
        + f" | glacier {g:.2f} s | plain {p:.2f} s (q3q5)"
    )
    print("raw peak RSS KB:", {"glacier": glacier_rss_runs, "polars": polars_rss_runs})


if __name__ == "__main__":
    main()
