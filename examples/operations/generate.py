"""Sample data for examples/operations: a few landed event files.

    python examples/operations/generate.py DIR

writes DIR/ops-landing/events/part-<n>.parquet (the layout ``glacier run --data-dir DIR``
reads); ``--partitioned`` writes 30 days of clicks, DIR/ops-lake/clicks/date=<day>/ (for
``partitioned.py``)."""

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


def generate_clicks(root: Path, days: int = 30, rows: int = 100) -> Path:
    """One hive partition per day of November 2026 (the key lives in the path only)."""
    folder = root / "ops-lake" / "clicks"
    for day in range(1, days + 1):
        partition = folder / f"date=2026-11-{day:02d}"
        partition.mkdir(parents=True, exist_ok=True)
        pl.DataFrame(
            {
                "user_id": [(i * day) % 23 for i in range(rows + day)],
                "kind": [KINDS[(i + day) % 3] for i in range(rows + day)],
            }
        ).write_parquet(partition / "part-0.parquet")
    return folder


if __name__ == "__main__":
    target = Path(next((a for a in sys.argv[1:] if not a.startswith("--")), "data"))
    print(generate_clicks(target) if "--partitioned" in sys.argv else generate(target))
