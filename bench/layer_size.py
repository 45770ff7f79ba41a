"""The Lambda layer (polars + pydantic + glacier's runtime) per architecture: its zipped and
unzipped size against Lambda's 250 MB limit, and whether two builds are byte-identical.

    .venv/bin/python bench/layer_size.py [--architecture arm64 x86_64]

The first run downloads the wheels from PyPI (cached in ~/.cache/glacier/site/, or
$GLACIER_CACHE); the zip is then rebuilt from that cache a second time to compare bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glacier.deploy.packaging import LAMBDA_UNZIPPED_LIMIT, build_layer, layer_spec


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--architecture", nargs="+", default=["arm64", "x86_64"], choices=["arm64", "x86_64"])
    parser.add_argument("--python", default="3.12")
    args = parser.parse_args()
    print(
        f"{'platform':<24} {'zipped MB':>10} {'unzipped MB':>12} {'of 250 MB':>10} {'build s':>8} identical"
    )
    for arch in args.architecture:
        spec = layer_spec(arch, args.python)
        start = time.perf_counter()
        first = build_layer(spec)
        seconds = time.perf_counter() - start
        digest = sha256(first.path)
        first.path.unlink()  # rebuild from the downloaded packages and compare bytes
        second = build_layer(spec)
        identical = sha256(second.path) == digest
        print(
            f"{spec.platform:<24} {first.zipped_bytes / 1e6:10.1f} {first.unzipped_bytes / 1e6:12.1f} "
            f"{first.unzipped_bytes / LAMBDA_UNZIPPED_LIMIT:10.0%} {seconds:8.1f} {identical}"
        )
    print(f"requirements: {', '.join(spec.requirements)} (cp{args.python.replace('.', '')})")


if __name__ == "__main__":
    main()
