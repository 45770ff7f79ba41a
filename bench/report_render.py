"""How long headless Chromium takes to draw the `glacier report` of a 500-task pipeline.

    .venv/bin/python bench/report_render.py [--tasks 500] [--runs 2] [--repeat 3]

1. Writes a seeded pipeline module of N local tasks wired like `bench/plan_200.py` (each task
   reads 1-3 recent datasets; a final task reads every sink), with tiny source data.
2. Runs it for real `--runs` times (the report shows the latest run's timeline and a trend
   over all of them), then writes its report.
3. Opens the report `--repeat` times in Debian's headless Chromium (`make chromium`), each in
   a fresh page, and records: page-to-painted (navigation start -> two animation frames
   after the page was built, from the browser's own clock), the script's build time, and
   the wall clock seen over the DevTools protocol. Checks no console errors and one graph
   node per task and dataset, one timeline bar per task. Goal: painted < 3 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def pipeline_module(n: int, seed: int) -> str:
    """A pipeline-shaped DAG of ``n`` local tasks (the shape of ``plan_200.py``); every task
    keeps at most 20 rows, so a long chain stays small to run."""
    rng = random.Random(seed)
    lines = [
        "import polars as pl",
        "",
        "from glacier import Pipeline, Provider",
        "from glacier.config import LocalConfig",
        "",
        'provider = Provider(config=LocalConfig(base_path="./data"))',
        "run = provider.local()",
        "",
    ]
    sources = [f"src{i}" for i in range(4)]
    lines += [f'{src} = provider.bucket("bench", "src/{src}.parquet")' for src in sources]
    available, consumed, wiring = list(sources), set(), []
    for i in range(n - 1):
        name = f"t{i:03d}"
        k = rng.choice([1, 1, 1, 2, 2, 3])
        picks = sorted(
            {available[max(0, len(available) - 1 - int(rng.expovariate(1 / 4)))] for _ in range(k)}
        )
        consumed.update(picks)
        params = ", ".join(f"{p}: pl.LazyFrame" for p in picks)
        body = f"pl.concat([{', '.join(picks)}], how='diagonal').head(20)"
        lines += ["", "", "@run.task()", f"def {name}({params}) -> pl.LazyFrame:", f"    return {body}"]
        target = f'provider.bucket("bench", "out/{name}.parquet")'
        wiring.append(
            f"    {name}_ds = Pipeline({', '.join(f'{p}={p}' for p in picks)}).transform({name}).to({target})"
        )
        available.append(f"{name}_ds")
    sinks = [a for a in available if a.endswith("_ds") and a not in consumed]
    lines += [
        "",
        "",
        "@run.task()",
        f"def publish({', '.join(f'{s}: pl.LazyFrame' for s in sinks)}) -> pl.LazyFrame:",
        f"    return pl.concat([{', '.join(sinks)}], how='diagonal')",
        "",
        "",
        "def _wire() -> Pipeline:",
        *wiring,
        f"    sinks = dict({', '.join(f'{s}={s}' for s in sinks)})",
        f"    return Pipeline(name='report{n}', **sinks).transform(publish)"
        '.to(provider.bucket("bench", "out/publish.parquet"))',
        "",
        "",
        "pipeline = _wire()",
    ]
    return "\n".join(lines) + "\n"


def write_sources(data: Path) -> None:
    import polars as pl

    folder = data / "bench" / "src"
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(4):
        pl.DataFrame({"id": list(range(10)), f"value{i}": [float(v) for v in range(10)]}).write_parquet(
            folder / f"src{i}.parquet"
        )


def build(work: Path, tasks: int, runs: int, seed: int) -> tuple[Path, int, int]:
    """Run the generated pipeline ``runs`` times and write its report; returns (report,
    tasks, datasets)."""
    from glacier import load_pipelines
    from glacier.config import LocalConfig
    from glacier.report import write_report
    from glacier.runner import run_pipeline

    module = work / f"report{tasks}.py"
    module.write_text(pipeline_module(tasks, seed))
    write_sources(work / "data")
    (compiled,) = load_pipelines(module).pipelines
    state = work / ".glacier"
    for _ in range(runs):
        run_pipeline(compiled, storage=LocalConfig(base_path=str(work / "data")), state_dir=state)
    report = write_report([compiled], work / "report.html", state_dir=state)
    return report, len(compiled.dag.tasks), len(compiled.dag.datasets)


def measure(report: Path, repeat: int, tasks: int, datasets: int) -> list[dict[str, float]]:
    sys.path.insert(0, str(REPO / "tests" / "report"))
    from chromium import Chromium

    results = []
    for _ in range(repeat):
        with Chromium() as browser:
            wall = browser.open(report)
            problems = browser.problems()
            assert not problems, problems
            counts = browser.evaluate(
                "[document.querySelectorAll('svg.lineage g[data-node^=\"task:\"]').length,"
                " document.querySelectorAll('svg.lineage g[data-node^=\"dataset:\"]').length,"
                " document.querySelectorAll('svg.timeline rect.bar').length,"
                " document.querySelector('svg.lineage').getAttribute('data-engine')]"
            )
            assert counts[:3] == [tasks, datasets, tasks], counts
            marks = browser.evaluate(
                "[document.documentElement.dataset.paintedMs, document.documentElement.dataset.renderMs]"
            )
            results.append({"painted": float(marks[0]) / 1000, "build": float(marks[1]) / 1000, "wall": wall})
            engine = counts[3]
    print(f"layout engine: {engine}")
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=500)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=500)
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="glacier-report-bench-") as tmp:
        started = time.perf_counter()
        report, tasks, datasets = build(Path(tmp), args.tasks, args.runs, args.seed)
        print(
            f"pipeline: {tasks} tasks, {datasets} datasets, {args.runs} local runs + report in "
            f"{time.perf_counter() - started:.1f} s; report {report.stat().st_size / 1e6:.2f} MB"
        )
        results = measure(report, args.repeat, tasks, datasets)
    for key, label in (
        ("painted", "navigation -> painted"),
        ("build", "script build"),
        ("wall", "wall (CDP)"),
    ):
        values = [r[key] for r in results]
        print(f"{label:<24} best {min(values):.2f} s  median {statistics.median(values):.2f} s")
    best = min(r["painted"] for r in results)
    print(f"goal painted < 3 s: {'met' if best < 3 else 'NOT met'} ({best:.2f} s)")


if __name__ == "__main__":
    main()
