"""``make demo``: generate sample data for the sales pipeline, run it locally with
``glacier run`` (progress, then a per-task summary), run it again (cached tasks are
skipped), preview the deployment offline, and end by writing the HTML report of the runs
(lineage, timeline, per-task trends, cost) and printing its path.

Usage: ``python examples/demo.py WORKDIR``
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PIPELINES = HERE / "sales" / "pipelines.py"
GLACIER = [sys.executable, "-c", "from glacier.cli import main; main()"]


def banner(text: str) -> None:
    print(f"\n=== {text} " + "=" * max(0, 70 - len(text)), flush=True)


def glacier(*args: str) -> None:
    subprocess.run([*GLACIER, *args], check=True)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    workdir = Path(sys.argv[1]).resolve()
    data, state = workdir / "data", workdir / ".glacier"
    sys.path.insert(0, str(HERE / "sales"))
    from generate import generate

    banner(f"1. Sample data -> {data}")
    counts = generate(data)
    print(", ".join(f"{name}: {count:,} rows" for name, count in counts.items()))

    banner("2. glacier run (local, Polars)")
    glacier("run", str(PIPELINES), "--data-dir", str(data), "--state-dir", str(state))

    banner("3. glacier run again (cache=True tasks are skipped)")
    glacier("run", str(PIPELINES), "--data-dir", str(data), "--state-dir", str(state))

    banner("4. glacier history")
    glacier("history", "--state-dir", str(state), "--limit", "2")

    banner("5. The typed DAG that deploys")
    glacier("graph", str(PIPELINES))

    banner("6. glacier plan: what `pulumi up` would declare (offline, under Pulumi's mocks)")
    glacier("plan", str(PIPELINES))

    banner("7. glacier report: one self-contained HTML file (open it in any browser)")
    glacier("report", str(PIPELINES), "--state-dir", str(state), "-o", str(workdir / "report.html"))


if __name__ == "__main__":
    main()
