"""Peak RSS of the 22-query TPC-H pipeline (``tpch_multi.py``, 29 tasks) under ``glacier run``
with the memory-aware worker cap (``glacier.runner.memory``), without it
(``GLACIER_MEMORY_BUDGET=off``: the thread cap of 8 alone) and the plain Polars script
(``tpch_plain.py --multi``, one query after another), alternating, whole process, each run
from an empty state folder (nothing cached). Prints the median peak RSS (VmHWM) and wall
seconds of each and the ratios to the plain script (goal: peak RSS <= 1.1x).

    .venv/bin/python bench/run_memory.py [--sf 1] [--repeat 3] [--workdir bench/.work/tpch]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

from local_bench import BENCH, ENV, GLACIER_RSS, PY, maxrss, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sf", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work/tpch"))
    args = parser.parse_args()
    data = args.workdir.resolve()
    ENV["PYTHONPYCACHEPREFIX"] = str(data / "pycache")
    if not (data / "tpch/lineitem.parquet").exists():
        code = f"import tpch_pipelines as t, pathlib; t.generate(pathlib.Path({str(data)!r}), {args.sf})"
        subprocess.run([PY, "-c", code], check=True, cwd=BENCH)

    def glacier() -> list[str]:
        state = data / "state-memory"
        shutil.rmtree(state, ignore_errors=True)
        command = [*GLACIER_RSS, "run", str(BENCH / "tpch_multi.py"), "--data-dir", str(data)]
        return [*command, "--state-dir", str(state), "--quiet"]

    variants: dict[str, tuple[list[str] | None, str | None]] = {
        "glacier (memory cap)": (None, None),
        "glacier (cap off)": (None, "off"),
        "plain polars script": ([PY, str(BENCH / "tpch_plain.py"), str(data), "--multi"], None),
    }
    rss: dict[str, list[int]] = {name: [] for name in variants}
    seconds: dict[str, list[float]] = {name: [] for name in variants}
    print(f"load average at start {os.getloadavg()[0]:.1f}", flush=True)
    timed(variants["plain polars script"][0] or [])  # warm-up: bytecode and page cache
    for _ in range(args.repeat):
        for name, (command, budget) in variants.items():
            if budget is None:
                ENV.pop("GLACIER_MEMORY_BUDGET", None)
            else:
                ENV["GLACIER_MEMORY_BUDGET"] = budget
            took, output = timed(command or glacier())
            rss[name].append(maxrss(output))
            seconds[name].append(took)
    ENV.pop("GLACIER_MEMORY_BUDGET", None)
    plain_rss = statistics.median(rss["plain polars script"])
    plain_s = statistics.median(seconds["plain polars script"])
    for name in variants:
        peak, took = statistics.median(rss[name]), statistics.median(seconds[name])
        print(
            f"{name:<22} peak RSS {peak / 1024:6.0f} MB ({peak / plain_rss:.3f}x) | "
            f"{took:6.2f} s ({took / plain_s:.3f}x) | raw MB {[r // 1024 for r in rss[name]]} "
            f"s {[round(s, 2) for s in seconds[name]]}"
        )
    print(f"load average at end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    sys.path.insert(0, str(BENCH))
    main()
