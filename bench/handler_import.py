"""Cold import of the Lambda handler (polars + Glacier runtime + a user module) vs
``import polars`` alone. Goal: <= 1.2x.

Run: .venv/bin/python bench/handler_import.py [--repeat 9]
Each measurement is a fresh interpreter (a cold start), timing the imports inside it; the
median of the repeats is reported. The user module is examples/seed_000/core_single_source.py
with its folder on sys.path, as the code bundle is in Lambda (/var/task).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT / "examples" / "seed_000"

BASELINE = "import polars"
# Everything the first invocation imports: the handler, the shared core and I/O (when
# present in this checkout), the user's module.
HANDLER = f"""
import importlib.util, sys
sys.path.insert(0, {str(BUNDLE)!r})
import glacier.runtime.lambda_handler
for name in ("glacier.runtime.core", "glacier.io"):
    if importlib.util.find_spec(name) is not None:
        __import__(name)
import core_single_source
"""

CHILD = """
import json, sys, time
start = time.perf_counter()
exec(compile(sys.argv[1], "<imports>", "exec"))
seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "modules": sorted(m for m in sys.modules if m.startswith("glacier"))}))
"""


def measure(code: str, repeat: int) -> tuple[float, list[str]]:
    times: list[float] = []
    modules: list[str] = []
    for _ in range(repeat):
        done = subprocess.run(
            [sys.executable, "-c", CHILD, code], capture_output=True, text=True, check=True, cwd=ROOT
        )
        report = json.loads(done.stdout.strip().splitlines()[-1])
        times.append(report["seconds"])
        modules = report["modules"]
    return statistics.median(times), modules


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    # Interleave warm-up so both sides see the same file-system cache.
    measure(BASELINE, 1)
    measure(HANDLER, 1)
    polars_s, _ = measure(BASELINE, args.repeat)
    handler_s, modules = measure(HANDLER, args.repeat)
    ratio = handler_s / polars_s
    print(f"import polars alone:                      {polars_s * 1000:8.1f} ms (median of {args.repeat})")
    print(f"handler + runtime + user module:          {handler_s * 1000:8.1f} ms (median of {args.repeat})")
    print(f"ratio: {ratio:.3f}x (goal <= 1.2x): {'OK' if ratio <= 1.2 else 'OVER'}")
    print(f"glacier modules loaded: {', '.join(modules)}")
    return 0 if ratio <= 1.2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
