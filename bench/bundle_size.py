"""Size of the code bundle each example deploys (goal: under 1 MB), plus glacier's runtime zip.

Run: .venv/bin/python bench/bundle_size.py
The bundle is what C's packaging uploads for a pipeline module: the .py files under the
module's root (the directory that must be on sys.path to import it), as a reproducible zip.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from glacier.deploy.packaging import code_bundle, runtime_zip
from glacier.dsl.discovery import load_pipelines

LIMIT = 1_000_000
ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    examples = sorted(p for p in (ROOT / "examples").rglob("*.py") if "__pycache__" not in p.parts)
    rows: list[tuple[str, str, int, int]] = []
    worst = 0
    with tempfile.TemporaryDirectory() as tmp:
        for path in examples:
            try:
                module = load_pipelines(path)
            except Exception as exc:  # a helper script, not a pipeline module
                print(f"skip {path.relative_to(ROOT)}: {type(exc).__name__}", file=sys.stderr)
                continue
            if not module.pipelines:
                continue
            bundle = code_bundle(module.root, out_dir=Path(tmp))
            size = bundle.path.stat().st_size
            worst = max(worst, size)
            rows.append(
                (str(path.relative_to(ROOT)), str(module.root.relative_to(ROOT)), bundle.entries, size)
            )
        runtime = runtime_zip(out_dir=Path(tmp))
        runtime_size = runtime.path.stat().st_size
    print(f"{'example':<52} {'bundle root':<22} {'files':>5} {'bytes':>9}")
    for name, root, entries, size in rows:
        print(f"{name:<52} {root:<22} {entries:>5} {size:>9,}")
    print(
        f"\nlargest example bundle: {worst:,} bytes (goal < {LIMIT:,}): {'OK' if worst < LIMIT else 'OVER'}"
    )
    print(f"glacier runtime zip (Glue/EMR --extra-py-files): {runtime_size:,} bytes, {runtime.entries} files")
    return 0 if worst < LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
