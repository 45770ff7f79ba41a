"""``glacier run`` of a TPC-H workload under two checkouts side by side: a checkout from
before a change (``git worktree add /tmp/before REV``) and this tree, alternating (the order
flipped every round), each side with its own data folder (the source tables symlinked) and
state folder, each run a fresh process with its checkout first on the path.

    .venv/bin/python bench/tpch_ab.py --before /tmp/before [--workload q3q5|multi]
        [--mode full|cached] [--repeat 15] [--workdir bench/.work/tpch]

``full``: every run starts from an empty state folder (nothing cached); ``cached``: after one
untimed run per side, every run is a fully cached rerun. Medians, and after/before.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from local_bench import PY, timed  # noqa: E402
from tpch_fused import WORKLOADS, _linked_copy  # noqa: E402

RUN = (
    "import sys; sys.path.insert(0, {tree!r}); from glacier.cli import main; "
    "sys.argv = ['glacier', 'run', {file!r}, '--data-dir', {data!r}, '--state-dir', {state!r}, '--quiet']; "
    "main()"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", type=Path, required=True, help="A checkout of the code before.")
    parser.add_argument("--workload", choices=sorted(WORKLOADS), default="q3q5")
    parser.add_argument("--mode", choices=["full", "cached"], default="full")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=Path("bench/.work/tpch"))
    args = parser.parse_args()
    data = args.workdir.resolve()
    if not (data / "tpch/lineitem.parquet").exists():
        raise SystemExit(f"no TPC-H data in {data}: run bench/tpch_fused.py once first")
    file = str(BENCH / WORKLOADS[args.workload][0])
    trees = {"before": str(args.before.resolve()), "after": str(BENCH.parent)}
    commands = {}
    for side, tree in trees.items():
        side_data = data.parent / f"{data.name}-ab-{side}"
        _linked_copy(data, side_data)
        state = side_data / f"state-{args.workload}"
        shutil.rmtree(state, ignore_errors=True)
        code = RUN.format(tree=tree, file=file, data=str(side_data), state=str(state))
        commands[side] = (state, [PY, "-c", code])
    for _state, command in commands.values():  # warm-up: bytecode, page cache, the cached state
        timed(command)
    times: dict[str, list[float]] = {side: [] for side in commands}
    for round_ in range(args.repeat):
        order = list(commands) if round_ % 2 == 0 else list(commands)[::-1]
        for side in order:
            state, command = commands[side]
            if args.mode == "full":
                shutil.rmtree(state, ignore_errors=True)
            times[side].append(timed(command)[0])
    medians = {side: statistics.median(ts) for side, ts in times.items()}
    print(
        f"[{args.workload} {args.mode}] before {medians['before']:.3f} s | after {medians['after']:.3f} s | "
        f"after/before {medians['after'] / medians['before']:.3f} | "
        f"{1000 * (medians['after'] - medians['before']):+.1f} ms (median of {args.repeat}, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    print("raw:", {side: [round(t, 3) for t in ts] for side, ts in times.items()})


if __name__ == "__main__":
    main()
