"""The Spark job packages (Glue 5 zip of wheels, EMR Serverless archive) per engine,
architecture and variant: their packed and installed size, the build time, and whether a
rebuild is byte-identical.

    .venv/bin/python bench/job_package_size.py [--engine glue emr-serverless] [--variant polars pyspark]

The first run downloads the wheels from PyPI (cached in ~/.cache/glacier/wheels/, or
$GLACIER_CACHE); each package is then rebuilt from that cache to compare bytes.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from glacier.deploy.job_packages import (
    JobPackageSpec,
    build_job_package,
    emr_package_spec,
    glue_package_spec,
)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def specs(engines: list[str], variants: list[str]) -> list[JobPackageSpec]:
    found: list[JobPackageSpec] = []
    for variant in variants:
        if "glue" in engines:
            found.append(glue_package_spec(variant))  # type: ignore[arg-type]
        if "emr-serverless" in engines:
            found += [emr_package_spec(arch, variant) for arch in ("ARM64", "X86_64")]  # type: ignore[arg-type]
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--engine", nargs="+", default=["glue", "emr-serverless"], choices=["glue", "emr-serverless"]
    )
    parser.add_argument("--variant", nargs="+", default=["polars", "pyspark"], choices=["polars", "pyspark"])
    args = parser.parse_args()
    print(
        f"{'engine':<15} {'arch':<8} {'variant':<8} {'packed MB':>10} {'installed MB':>13} "
        f"{'wheels':>6} {'build s':>8} identical"
    )
    for spec in specs(args.engine, args.variant):
        start = time.perf_counter()
        first = build_job_package(spec)
        seconds = time.perf_counter() - start
        digest = sha256(first.path)
        first.path.unlink()  # rebuild from the downloaded wheels and compare bytes
        identical = sha256(build_job_package(spec).path) == digest
        print(
            f"{spec.engine:<15} {spec.architecture:<8} {spec.variant:<8} {first.archive_bytes / 1e6:10.1f} "
            f"{first.installed_bytes / 1e6:13.1f} {len(first.wheels):6d} {seconds:8.1f} {identical}"
        )
    requirements = ", ".join(glue_package_spec().requirements)
    print(f"python: cp{spec.python_version.replace('.', '')}; requirements: {requirements}")


if __name__ == "__main__":
    main()
