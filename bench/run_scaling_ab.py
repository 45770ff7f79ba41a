"""The tiny-task chain of ``run_scaling.py`` under two checkouts side by side (e.g. main
before a change and this tree after it) and the plain Polars loop, alternating, each in a
child process with that checkout first on the path. CPU = the child's user + system
seconds (including building the pipeline); best of the repeats.

    .venv/bin/python bench/run_scaling_ab.py --before /path/to/old/checkout [--layout flat]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent.parent)
CODE = """
import sys, os, time
sys.path.insert(0, {tree!r}); sys.path.insert(0, {tree!r} + '/bench')
import run_scaling as r
fn = r.time_plain if {plain} else r.time_glacier
t0 = os.times(); w0 = time.perf_counter()
fn({n}, {layout!r})
t1 = os.times()
print(time.perf_counter() - w0, (t1.user - t0.user) + (t1.system - t0.system))
"""


def run(tree: str, n: int, layout: str, plain: bool = False) -> tuple[float, float]:
    code = CODE.format(tree=tree, n=n, layout=layout, plain=plain)
    env = {**os.environ, "PYTHONPATH": tree}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    wall, cpu = out.stdout.split()[-2:]
    return float(wall), float(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--before", required=True, help="the other checkout")
    parser.add_argument("--layout", choices=("flat", "nested"), default="flat")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000, 4_000])
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    trees = {"before": args.before, "after": HERE}
    for n in args.sizes:
        res: dict[str, list[tuple[float, float]]] = {k: [] for k in [*trees, "plain loop"]}
        for _ in range(args.repeat):
            for name, tree in trees.items():
                res[name].append(run(tree, n, args.layout))
            res["plain loop"].append(run(HERE, n, args.layout, plain=True))
        line = " | ".join(
            f"{k} wall {min(t[0] for t in v):.2f} s cpu {min(t[1] for t in v):.2f} s" for k, v in res.items()
        )
        print(f"{args.layout} n={n} load {os.getloadavg()[0]:.1f}: {line}", flush=True)
        print("   raw", json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
