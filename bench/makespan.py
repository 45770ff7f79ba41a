"""How much waiting the generated state machines add: simulated makespan / critical path.

    .venv/bin/python bench/makespan.py [--dags 200] [--seed 0]

For each of --dags seeded random DAGs, with seeded random task durations (uniform 1-10,
unknown to the builder, which assumes equal durations), the state machine definition that
`glacier.deploy.asl.build_definition` emits is simulated (`asl.simulate`: a Task takes its
duration, a Parallel state ends when its slowest branch does) and divided by the DAG's
critical path (the best any scheduler could do). Beside it: the naive level-by-level
schedule (every level a Parallel state, levels in series).

DAG families:
- pipeline: Glacier-shaped DAGs; each task reads 1-3 recent datasets (5-60 tasks).
- series-parallel: built by random series/parallel composition (2-60 tasks): must be 1.00.
- erdos-renyi: every earlier task is a dependency with probability 0.05-0.3 (5-40 tasks);
  dense, far from series-parallel, the hardest case.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glacier.dag.paths import critical_path
from glacier.deploy import asl, naming
from glacier.deploy.schedule import level_schedule, makespan
from tests.deploy.deploy_helpers import dag_from_deps  # the random-DAG pipelines the tests use

Deps = dict[str, set[str]]


def pipeline_like(rng: random.Random) -> Deps:
    n, sources = rng.randint(5, 60), rng.randint(1, 5)
    names = [f"t{i:03d}" for i in range(n)]
    deps: Deps = {}
    for i, task in enumerate(names):
        picks = {
            max(-sources, i - 1 - int(rng.expovariate(1 / 4))) for _ in range(rng.choice([1, 1, 1, 2, 2, 3]))
        }
        deps[task] = {names[j] for j in picks if j >= 0}
    return deps


def erdos_renyi(rng: random.Random) -> Deps:
    n, p = rng.randint(5, 40), rng.uniform(0.05, 0.3)
    names = [f"t{i:03d}" for i in range(n)]
    return {names[i]: {names[j] for j in range(i) if rng.random() < p} for i in range(n)}


def series_parallel(rng: random.Random) -> Deps:
    counter = iter(range(100_000))

    def build(size: int) -> tuple[Deps, set[str], set[str]]:
        if size == 1:
            name = f"t{next(counter):03d}"
            return {name: set()}, {name}, {name}
        left = rng.randint(1, size - 1)
        a, a_src, a_snk = build(left)
        b, b_src, b_snk = build(size - left)
        if rng.random() < 0.5:
            for src in b_src:
                b[src] |= a_snk
            return {**a, **b}, a_src, b_snk
        return {**a, **b}, a_src | b_src, a_snk | b_snk

    return build(rng.randint(2, 60))[0]


def measure(family: Callable[[random.Random], Deps], dags: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    ours: list[float] = []
    naive: list[float] = []
    build_seconds = 0.0
    for _ in range(dags):
        deps = family(rng)
        durations = {t: rng.uniform(1, 10) for t in deps}
        dag = dag_from_deps(deps, name="bench")
        targets = {t.name: asl.LambdaTarget(naming.function_name(dag.name, t.name)) for t in dag.tasks}
        start = time.perf_counter()
        definition = asl.build_definition(dag, targets)
        build_seconds += time.perf_counter() - start
        bound = critical_path(deps, durations).seconds
        ours.append(asl.simulate(definition, {naming.state_name(t): d for t, d in durations.items()}) / bound)
        naive.append(makespan(level_schedule(deps), durations) / bound)
    return {
        "mean": statistics.fmean(ours),
        "p95": sorted(ours)[int(0.95 * (len(ours) - 1))],
        "max": max(ours),
        "exact": sum(r <= 1 + 1e-9 for r in ours) / len(ours),
        "naive_mean": statistics.fmean(naive),
        "naive_max": max(naive),
        "build_ms": 1000 * build_seconds / dags,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dags", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    families = {"pipeline": pipeline_like, "series-parallel": series_parallel, "erdos-renyi": erdos_renyi}
    print(f"{args.dags} DAGs per family, seed {args.seed}; ratio = simulated makespan / critical path")
    header = ("family", "mean", "p95", "max", "exact", "naive mean", "naive max", "build ms")
    widths = (16, 6, 6, 6, 6, 11, 10, 9)
    print(
        " ".join(
            f"{h:<{w}}" if i == 0 else f"{h:>{w}}"
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    for name, family in families.items():
        r = measure(family, args.dags, args.seed)
        print(
            f"{name:<16} {r['mean']:6.3f} {r['p95']:6.3f} {r['max']:6.3f} {r['exact']:6.0%} "
            f"{r['naive_mean']:11.3f} {r['naive_max']:10.3f} {r['build_ms']:9.1f}"
        )


if __name__ == "__main__":
    main()
