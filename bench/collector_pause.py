"""What pausing the garbage collector while a pipeline file loads saves (``glacier.cli._common``:
the console script pauses it, then freezes what the load made), whole process, side by side:

- ``glacier run`` as shipped, and
- the same command with the pause switched off in that process (``_collector_paused``
  replaced by a no-op before ``main()``), everything else equal,

alternating, median of ``--repeat`` after one untimed warm-up of each, on two workloads:
the Q3+Q5 file at SF1 from an empty state folder (a full run), and the 22-query pipeline
fully cached (a rerun that computes nothing). Each side has its own data folder (the source
tables symlinked) and state folder, so one side's writes never invalidate the other's cache.

    .venv/bin/python bench/collector_pause.py [--sf 1] [--repeat 15] [--workdir bench/.work/tpch]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from local_bench import PY, timed  # noqa: E402
from tpch_fused import _linked_copy  # noqa: E402

SIDES = {
    "paused": [PY, "-c", "from glacier.cli import main; main()"],
    "not paused": [
        PY,
        "-c",
        "import contextlib, glacier.cli._common as c; c._collector_paused = contextlib.nullcontext; "
        "from glacier.cli import main; main()",
    ],
}
WORKLOADS = {"q3q5 full run": ("tpch_pipelines.py", False), "multi cached rerun": ("tpch_multi.py", True)}


def measure(name: str, data: Path, repeat: int) -> dict[str, float]:
    file, cached = WORKLOADS[name]
    folders = {side: data / "collector" / side.replace(" ", "-") for side in SIDES}

    def command(side: str) -> list[str]:
        base = folders[side]
        state = base / f"state-{file}"
        if not cached:
            shutil.rmtree(state, ignore_errors=True)
        run = ["run", str(BENCH / file), "--data-dir", str(base), "--state-dir", str(state), "--quiet"]
        return [*SIDES[side], *run]

    for side in SIDES:
        _linked_copy(data, folders[side])
        timed(command(side))  # warm-up (and, when cached, the run that fills the cache)
    times: dict[str, list[float]] = {side: [] for side in SIDES}
    for _ in range(repeat):
        for side in SIDES:
            times[side].append(timed(command(side))[0])
    medians = {side: statistics.median(values) for side, values in times.items()}
    paused, not_paused = medians["paused"], medians["not paused"]
    print(
        f"[{name}] paused {paused:.3f} s | not paused {not_paused:.3f} s | "
        f"saved {1000 * (not_paused - paused):.1f} ms ({paused / not_paused:.3f}x)"
    )
    print(f"[{name}] raw: { {k: [round(v, 3) for v in vs] for k, vs in times.items()} }")
    return medians


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sf", type=float, default=1.0)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--workdir", type=Path, default=BENCH / ".work" / "tpch")
    args = parser.parse_args()
    import tpch_pipelines

    tpch_pipelines.generate(args.workdir, args.sf)
    for name in WORKLOADS:
        measure(name, args.workdir, args.repeat)


if __name__ == "__main__":
    main()
