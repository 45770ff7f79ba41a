"""What the sound cache key costs: the code fingerprint of 200 tasks, and content identity.

    .venv/bin/python bench/cache_fingerprint.py [--tasks 200] [--mb 256]

1. Writes a project (a helper module with constants, a dataclass, a staticmethod helper and
   an lru_cache helper; a pipeline module with N cached tasks, half module-level functions,
   half made by a factory with a closure) and times ``code_fingerprint`` of every task: the
   first pass in the process (code objects digested) and a second pass (digests reused).
2. Times ``ContentIds.identify`` for a ``--mb`` MB file: first sight (the bytes are hashed),
   the same run again (in-run memo), and a later run (the SQLite memo: one stat + lookup).
3. Runs the N-task pipeline (one chain) twice on tiny files; the second run is all cache hits, and its
   time per task is what checking the cache costs end to end.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

HELPERS = """
import dataclasses
import functools

LIMITS = {"low": 1.0, "high": 5.0, "names": ("amount", "price")}


@dataclasses.dataclass(frozen=True)
class Rule:
    column: str = "amount"
    limit: float = 2.0


class Rules:
    @staticmethod
    def limit(rule):
        return rule.limit + LIMITS["low"]


@functools.lru_cache(maxsize=None)
def scale():
    return 1.0


def threshold():
    return Rules.limit(Rule()) * scale()
"""


def pipeline_module(base: Path, n: int) -> str:
    lines = [
        "import polars as pl",
        "import helpers",
        "from glacier import Provider",
        "from glacier.config import LocalConfig",
        f"provider = Provider(config=LocalConfig(base_path={str(base)!r}))",
        "ex = provider.local()",
        "def make(name, extra):",
        "    @ex.task(name=name, cache=True)",
        "    def step(df):",
        "        return df.filter(pl.col('amount') > helpers.threshold() + extra)",
        "    return step",
        "chain = provider.bucket('lake', 'src.parquet')",
    ]
    for i in range(n):
        if i % 2:
            lines.append(f"t{i} = make('t{i}', {i / 1000})")
        else:
            lines += [
                "@ex.task(cache=True)",
                f"def t{i}(df):",
                f"    return df.filter(pl.col('amount') > helpers.LIMITS['low'] + {i / 1000})",
            ]
        lines.append(f"chain = chain.transform(t{i}).to(provider.bucket('lake', 'out{i}.parquet'))")
    return "\n".join(lines) + "\n"


def bench_fingerprints(root: Path, n: int) -> None:
    from glacier import load_pipelines
    from glacier.runner.code_fingerprint import code_fingerprint

    (root / "helpers.py").write_text(textwrap.dedent(HELPERS))
    (root / "wide.py").write_text(pipeline_module(root, n))
    sys.path.insert(0, str(root))
    module = load_pipelines(root / "wide.py")
    compiled = max(module.pipelines, key=lambda p: len(p.dag.tasks))
    functions = [compiled.functions[t.name] for t in compiled.dag.tasks if t.cache]
    for label in ("first pass", "second pass"):
        started, cpu = time.perf_counter(), time.process_time()
        for func in functions:
            code_fingerprint(func)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(
            f"code_fingerprint, {label}: {took * 1e3:.1f} ms for {len(functions)} tasks, "
            f"{took / len(functions) * 1e6:.0f} us per task ({cpu / len(functions) * 1e6:.0f} us CPU)"
        )


def bench_content(root: Path, mb: int) -> None:
    from glacier.formats import Format
    from glacier.io import content_id, stat_uri
    from glacier.io.content_id import ContentIds

    data = root / "big.parquet"
    with open(data, "wb") as handle:
        for _ in range(mb):
            handle.write(os.urandom(1024 * 1024))
    old = time.time_ns() - 10 * content_id.RACY_WINDOW_NS
    os.utime(data, ns=(old, old))
    time.sleep(content_id.RACY_WINDOW_NS / 1e9 + 0.1)  # ctime must be older than the window
    stored = stat_uri(str(data), Format.PARQUET)
    assert stored is not None
    ids = ContentIds(root / "state")
    later = ContentIds(root / "state")
    for label, target in (("first sight", ids), ("same run", ids), ("next run (memo)", later)):
        started, cpu = time.perf_counter(), time.process_time()
        target.identify(str(data), Format.PARQUET, stored)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        extra = f", {mb / took:.0f} MB/s wall, {mb / cpu:.0f} MB/s CPU" if label == "first sight" else ""
        print(f"content identity of {mb} MB, {label}: {took * 1e3:.2f} ms{extra}")


def bench_run(root: Path) -> None:
    import polars as pl

    from glacier import load_pipelines
    from glacier.runner import run_pipeline

    (root / "lake").mkdir(exist_ok=True)
    pl.DataFrame({"amount": [1.0, 3.0, 7.0]}).write_parquet(root / "lake/src.parquet")
    os.environ["GLACIER_STATE_DIR"] = str(root / "state")
    compiled = max(load_pipelines(root / "wide.py").pipelines, key=lambda p: len(p.dag.tasks))
    n = len(compiled.dag.tasks)
    for label in ("first run", "all cached"):
        started, cpu = time.perf_counter(), time.process_time()
        result = run_pipeline(compiled)
        took, cpu = time.perf_counter() - started, time.process_time() - cpu
        statuses = {t.status for t in result.tasks.values()}
        print(
            f"run of {n} tasks, {label}: {took:.2f} s ({took / n * 1e3:.1f} ms per task, "
            f"{cpu / n * 1e3:.1f} ms CPU) {statuses}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--mb", type=int, default=256)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        bench_fingerprints(root, args.tasks)
        bench_content(root, args.mb)
        bench_run(root)


if __name__ == "__main__":
    main()
