"""Sample data for examples/operations: a few landed event files.

    python examples/operations/generate.py DIR

writes DIR/ops-landing/events/part-<n>.parquet (the layout ``glacier run --data-dir DIR``
reads)."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl

KINDS = ("view", "click", "purchase")


def generate(root: Path, files: int = 3, rows: int = 200) -> Path:
    folder = root / "ops-landing" / "events"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(files):
        pl.DataFrame(
            {
                "user_id": [None if i % 50 == 0 else i % 17 for i in range(rows)],
                "kind": [KINDS[(i + n) % 3] for i in range(rows)],
                "ts": [f"2026-11-{1 + (i + n) % 28:02d}T{i % 24:02d}:00:00" for i in range(rows)],
            }
        ).write_parquet(folder / f"part-{n}.parquet")
    return folder


if __name__ == "__main__":
    print(generate(Path(sys.argv[1] if len(sys.argv) > 1 else "data")))
