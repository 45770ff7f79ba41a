"""Fused execution (issue 11): every multi-task TPC-H pipeline in bench/, whole process, side
by side in one run, alternating, median of ``--repeat`` after one untimed warm-up of each:

- ``glacier run`` (fused, the default) and ``glacier run --no-fuse`` (task by task),
- the plain step-by-step Polars script (``tpch_plain.py``: scan, sink, next step),
- the hand-fused Polars script (``tpch_plain.py --fused``: one ``pl.collect_all``).

    .venv/bin/python bench/tpch_fused.py [--sf 1] [--repeat 5] [--workdir bench/.work/tpch]

Workloads: ``q3q5`` (``tpch_pipelines.py``: 2 pipelines, 4 tasks) and ``multi``
(``tpch_multi.py``: all 22 queries + report, 29 tasks). Each Glacier run starts from an empty
state folder (no cache hits). The fused and unfused runs write into separate data folders
(the source tables are symlinked), and after the timed runs every output of the four is
checked equal and the answers against the official ones (SF 0.01, 0.1, 1).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from local_bench import ENV, GLACIER, PY, check_equal, timed  # noqa: E402

# name -> (pipeline file, plain flags, outputs under tpch/work/ per side: {side: folder}, names)
WORKLOADS = {
    "q3q5": ("tpch_pipelines.py", [], {"glacier": "", "plain": "plain", "fused": "fused"}),
    "multi": (
        "tpch_multi.py",
        ["--multi"],
        {"glacier": "multi", "plain": "plain_multi", "fused": "fused_multi"},
    ),
}


def _outputs(name: str) -> list[str]:
    if name == "q3q5":
        return [f"{n}.parquet" for n in ("building", "q3", "asia", "q5")]
    import tpch_queries

    return [f"{step}.parquet" for step in tpch_queries.STEPS]


def _linked_copy(data: Path, target: Path) -> None:
    """A data folder for the unfused runs: the same source tables, its own outputs."""
    (target / "tpch").mkdir(parents=True, exist_ok=True)
    for table in (data / "tpch").glob("*.parquet"):
        link = target / "tpch" / table.name
        if not link.exists():
            link.symlink_to(table)


def workload(name: str, data: Path, unfused: Path, repeat: int) -> dict[str, float]:
    file, flags, folders = WORKLOADS[name]
    pipelines = str(BENCH / file)

    def glacier(base: Path, state: Path, *extra: str) -> list[str]:
        shutil.rmtree(state, ignore_errors=True)
        return [
            *GLACIER,
            "run",
            pipelines,
            "--data-dir",
            str(base),
            "--state-dir",
            str(state),
            "--quiet",
            *extra,
        ]

    commands = {
        "glacier": lambda i: glacier(data, data / f"state-fused-{name}"),
        "no-fuse": lambda i: glacier(unfused, unfused / f"state-nofuse-{name}", "--no-fuse"),
        "plain": lambda i: [PY, str(BENCH / "tpch_plain.py"), str(data), *flags],
        "hand-fused": lambda i: [PY, str(BENCH / "tpch_plain.py"), str(data), *flags, "--fused"],
    }
    for command in commands.values():  # warm-up: bytecode and page cache
        timed(command(-1))
    times: dict[str, list[float]] = {side: [] for side in commands}
    for i in range(repeat):
        for side, command in commands.items():
            times[side].append(timed(command(i))[0])
    work, names = data / "tpch/work", _outputs(name)

    def at(root: Path, folder: str) -> Path:
        return root / "tpch/work" / folder

    check_equal(
        work,
        [(f"{at(data, folders['glacier'])}/{n}", f"{at(unfused, folders['glacier'])}/{n}") for n in names],
    )
    check_equal(
        work, [(f"{at(data, folders['glacier'])}/{n}", f"{at(data, folders['plain'])}/{n}") for n in names]
    )
    check_equal(
        work, [(f"{at(data, folders['glacier'])}/{n}", f"{at(data, folders['fused'])}/{n}") for n in names]
    )
    medians = {side: statistics.median(t) for side, t in times.items()}
    plain = medians["plain"]
    print(
        f"[{name}] "
        + " | ".join(f"{side} {m:.3f} s ({m / plain:.3f}x plain)" for side, m in medians.items())
        + f" | glacier / no-fuse {medians['glacier'] / medians['no-fuse']:.3f}"
        + f" | glacier / hand-fused {medians['glacier'] / medians['hand-fused']:.3f}"
    )
    print(f"[{name}] raw:", {side: [round(t, 3) for t in ts] for side, ts in times.items()}, flush=True)
    return medians


def check_answers(data: Path, scale_factor: float) -> None:
    import polars as pl
    import tpch_pipelines
    import tpch_queries

    work = data / "tpch/work"
    for query in (3, 5):
        tpch_pipelines.check_answer(query, pl.read_parquet(work / f"q{query}.parquet"), scale_factor)
    for query in tpch_queries.QUERIES:
        tpch_pipelines.check_answer(query, pl.read_parquet(work / f"multi/q{query}.parquet"), scale_factor)
    print(
        f"fused glacier run: Q3, Q5 and all 22 multi queries equal the official answers at SF{scale_factor:g}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sf", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work/tpch"))
    parser.add_argument("--only", choices=sorted(WORKLOADS), help="One workload only.")
    args = parser.parse_args()
    data = args.workdir.resolve()
    ENV["PYTHONPYCACHEPREFIX"] = str(data / "pycache")
    if not (data / "tpch/lineitem.parquet").exists():
        print(f"generating TPC-H SF{args.sf:g} into {data} ...", flush=True)
        code = f"import tpch_pipelines as t, pathlib; t.generate(pathlib.Path({str(data)!r}), {args.sf})"
        subprocess.run([PY, "-c", code], check=True, cwd=BENCH)
    unfused = data.parent / (data.name + "-nofuse")
    _linked_copy(data, unfused)
    print(f"load average before: {os.getloadavg()[0]:.1f}", flush=True)
    for name in [args.only] if args.only else list(WORKLOADS):
        workload(name, data, unfused, args.repeat)
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    if args.sf in (0.01, 0.1, 1) and not args.only:
        check_answers(data, args.sf)


if __name__ == "__main__":
    main()
