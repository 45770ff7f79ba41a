"""The Python packages a Glue or EMR Serverless job runs with, built once and read from S3.

No job installs anything from PyPI when it starts. Each package is keyed by what goes in
(engine, variant, architecture, CPython, pinned requirements, glacier's runtime), so
``glacier plan`` names it, its S3 key and the job arguments that point at it without building
anything; ``build_job_package`` makes it (PyPI once per requirement set, then offline), and a
rebuild gives the same bytes.

- **Glue 5.0** (Spark 3.5, CPython 3.11, Amazon Linux 2023 on x86_64): a *zip of wheels*
  (``wheels/requirements.txt`` + ``wheels/*.whl``, AWS's ``.gluewheels.zip`` layout), passed as
  ``--additional-python-modules s3://...gluewheels.zip --python-modules-installer-option
  --no-index``: Glue's pip installs those wheels and nothing else.
- **EMR Serverless 7.x** (ARM64 or X86_64): a ``.tar.gz`` unpacked by ``spark.archives`` into
  ``./glacier-env`` on the driver and every executor. It holds the installed packages
  (``site-packages/``) and ``bin/python``, a launcher that puts them on ``PYTHONPATH`` and
  runs the image's own CPython 3.11 (no Python binary can be built here without Docker, so
  the archive ships none: see docs/aws-mapping.md). ``PYSPARK_PYTHON`` points at the launcher.

Two variants: ``polars`` (polars + pydantic + glacier, for Polars tasks) and ``pyspark``
(pydantic + glacier, no polars: a pyspark task's job does not need it).
"""

from __future__ import annotations

import hashlib
import shlex
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.utils import parse_wheel_filename

from glacier.config import SparkConfig
from glacier.dag.model import TaskNode
from glacier.deploy import wheelhouse
from glacier.deploy.packaging import (
    files_digest,
    pinned_requirements,
    runtime_files,
    tree_entries,
    write_zip,
)
from glacier.errors import DeploymentError
from glacier.io.user_cache import cache_dir

Engine = Literal["glue", "emr-serverless"]
Variant = Literal["polars", "pyspark"]
EmrArchitecture = Literal["ARM64", "X86_64"]

GLUE_VERSION = "5.0"
GLUE_PYTHON = "3.11"  # Glue 5.0: Spark 3.5.4, Python 3.11, Java 17
GLUE_ARCHITECTURE: wheelhouse.Architecture = "x86_64"  # Glue documents no Graviton workers
EMR_PYTHON = "3.11"
# Where an EMR 7.x image keeps CPython 3.11: the stock image has Python 3.9 only, so the
# application runs a custom image (SparkConfig.emr_image) that installs it with
# `dnf install -y python3.11`, as AWS's custom-image sample does (docs/aws-mapping.md).
EMR_INTERPRETERS = ("/usr/bin/python3.11", "/usr/local/bin/python3.11")
EMR_ARCHITECTURE: EmrArchitecture = "ARM64"  # what the pipeline's EMR application runs on
EMR_ENV = "glacier-env"  # the directory spark.archives unpacks the package into
_EMR_ARCH: dict[str, wheelhouse.Architecture] = {"ARM64": "aarch64", "X86_64": "x86_64"}


def variant_requirements(variant: Variant) -> tuple[str, ...]:
    """The third-party pins a variant needs: the versions installed here (what tests ran with)."""
    pins = pinned_requirements()
    if variant == "polars":
        return pins
    return tuple(pin for pin in pins if pin.split("==")[0] != "polars")


@dataclass(frozen=True)
class JobPackageSpec:
    engine: Engine
    variant: Variant
    architecture: wheelhouse.Architecture
    python_version: str  # "3.11"
    requirements: tuple[str, ...]
    runtime_sha256: str
    interpreters: tuple[str, ...] = ()  # EMR: the image's CPython, in the order tried

    @property
    def platforms(self) -> tuple[str, ...]:
        return wheelhouse.manylinux_platforms(self.architecture)

    @property
    def python_tag(self) -> str:
        return f"cp{self.python_version.replace('.', '')}"

    @property
    def key(self) -> str:
        """Names the package by everything that goes in, so plans name it without building it."""
        text = "\n".join(
            (
                self.engine,
                self.variant,
                *self.requirements,
                *self.platforms,
                self.python_tag,
                self.runtime_sha256,
                *self.interpreters,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    @property
    def file_name(self) -> str:
        stem = f"glacier-{self.variant}-{self.engine}-{self.architecture}-{self.python_tag}-{self.key}"
        return f"{stem}.gluewheels.zip" if self.engine == "glue" else f"{stem}.tar.gz"

    @property
    def path(self) -> Path:
        return cache_dir() / "jobs" / self.file_name

    @property
    def s3_key(self) -> str:
        """Where the package goes in the artifacts bucket."""
        return f"jobs/{self.file_name}"


def glue_package_spec(variant: Variant = "polars") -> JobPackageSpec:
    return JobPackageSpec(
        engine="glue",
        variant=variant,
        architecture=GLUE_ARCHITECTURE,
        python_version=GLUE_PYTHON,
        requirements=variant_requirements(variant),
        runtime_sha256=files_digest(runtime_files()),
    )


def emr_package_spec(
    architecture: EmrArchitecture = "ARM64",
    variant: Variant = "polars",
    *,
    python_version: str = EMR_PYTHON,
    interpreters: tuple[str, ...] = EMR_INTERPRETERS,
) -> JobPackageSpec:
    """The package for an EMR Serverless application of this architecture (its API's names)."""
    if architecture not in _EMR_ARCH:
        raise DeploymentError(
            f"EMR Serverless has no architecture '{architecture}'.",
            fix="use 'ARM64' or 'X86_64'.",
        )
    return JobPackageSpec(
        engine="emr-serverless",
        variant=variant,
        architecture=_EMR_ARCH[architecture],
        python_version=python_version,
        requirements=variant_requirements(variant),
        runtime_sha256=files_digest(runtime_files()),
        interpreters=interpreters,
    )


def task_variant(task: TaskNode) -> Variant:
    """A pyspark task's job runs without Polars; every other Spark task's job runs Polars."""
    return "pyspark" if task.dataframe_api == "pyspark" else "polars"


def task_package_spec(task: TaskNode) -> JobPackageSpec | None:
    """The package a Spark task's job runs with (None for a Lambda task)."""
    config = task.executor.config
    if not isinstance(config, SparkConfig):
        return None
    if config.engine == "emr-serverless":
        return emr_package_spec(EMR_ARCHITECTURE, task_variant(task))
    return glue_package_spec(task_variant(task))


# -- what the job is given --------------------------------------------------------------------


def glue_job_arguments(package_uri: str) -> dict[str, str]:
    """The Glue job's default arguments that install the package and nothing from PyPI."""
    _check_uri(package_uri, ".gluewheels.zip")
    return {
        "--additional-python-modules": package_uri,
        "--python-modules-installer-option": "--no-index",
    }


def emr_spark_conf(archive_uri: str) -> dict[str, str]:
    """The Spark properties that unpack the archive and run the driver and executors on it."""
    _check_uri(archive_uri, ".tar.gz")
    python = f"./{EMR_ENV}/bin/python"
    return {
        "spark.archives": f"{archive_uri}#{EMR_ENV}",
        "spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON": python,
        "spark.emr-serverless.driverEnv.PYSPARK_PYTHON": python,
        # AWS's EMR Serverless guide sets the executors' Python with Spark's own property and
        # its samples with the emr-serverless one; both are set, to the same value.
        "spark.emr-serverless.executorEnv.PYSPARK_PYTHON": python,
        "spark.executorEnv.PYSPARK_PYTHON": python,
    }


def emr_spark_submit_parameters(archive_uri: str) -> str:
    """``emr_spark_conf`` as ``sparkSubmitParameters`` text (``--conf key=value ...``)."""
    return " ".join(f"--conf {key}={value}" for key, value in emr_spark_conf(archive_uri).items())


def _check_uri(uri: str, suffix: str) -> None:
    if not (uri.startswith("s3://") and uri.endswith(suffix)):
        raise DeploymentError(
            f"'{uri}' is not the S3 location of a job package (s3://...{suffix}).",
            fix="pass f's3://{artifacts_bucket}/{spec.s3_key}' for the package's spec.",
        )


# -- building ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class JobPackageBuild:
    spec: JobPackageSpec
    path: Path
    archive_bytes: int  # what is uploaded
    installed_bytes: int  # what it takes once installed / unpacked on the job's machines
    wheels: tuple[str, ...]  # every wheel that went in, glacier's own included


def build_job_package(spec: JobPackageSpec, *, pip: tuple[str, ...] | None = None) -> JobPackageBuild:
    """Build the package (or reuse it from the cache): PyPI is asked once per requirement set."""
    pip = pip or (sys.executable, "-m", "pip")
    house = wheelhouse.download_wheels(spec.requirements, spec.python_version, spec.platforms, pip)
    third_party = wheelhouse.wheel_files(house)
    wheelhouse.check_wheel_tags(third_party, spec.python_version, spec.platforms)
    runtime = wheelhouse.runtime_wheel(spec.requirements)
    wheels = tuple(sorted([*(w.name for w in third_party), runtime.name]))
    with tempfile.TemporaryDirectory(prefix="glacier-runtime-wheel-") as tmp:
        own = wheelhouse.write_runtime_wheel(runtime, Path(tmp))
        if not spec.path.exists():
            if spec.engine == "glue":
                _write_glue_zip(spec, [*third_party, own])
            else:
                _write_emr_archive(spec, house, own, pip)
        installed = (
            sum(wheelhouse.wheel_contents_size(w) for w in [*third_party, own])
            if spec.engine == "glue"
            else wheelhouse.tar_gz_unpacked_size(spec.path)
        )
    return JobPackageBuild(spec, spec.path, spec.path.stat().st_size, installed, wheels)


def _write_glue_zip(spec: JobPackageSpec, wheels: list[Path]) -> None:
    """AWS's zip-of-wheels layout: the wheels and a requirements file naming each exactly."""
    pins = []
    for wheel in wheels:
        name, version, _, _ = parse_wheel_filename(wheel.name)
        pins.append(f"{name}=={version}")
    entries = [(f"wheels/{w.name}", w.read_bytes()) for w in wheels]
    entries.append(("wheels/requirements.txt", ("\n".join(sorted(pins)) + "\n").encode()))
    write_zip(entries, spec.path)


def _write_emr_archive(spec: JobPackageSpec, house: Path, own: Path, pip: tuple[str, ...]) -> None:
    requirements = [*spec.requirements, wheelhouse.RUNTIME_DIST]
    with wheelhouse.installed(
        requirements, [house, own.parent], spec.python_version, spec.platforms, pip
    ) as target:
        entries = [
            (f"site-packages/{name.removeprefix('python/')}", data, 0o644)
            for name, data in tree_entries(target)
            # console scripts carry this machine's interpreter path in their first line
            if not name.startswith("python/bin/")
        ]
    entries.append(("bin/python", emr_launcher(spec).encode(), 0o755))
    wheelhouse.write_tar_gz(entries, spec.path)


def emr_launcher(spec: JobPackageSpec) -> str:
    """``bin/python``: runs the image's CPython on the archive's packages, or says plainly
    (in the driver's stderr) that the image has no CPython of the packages' version."""
    tried = " ".join(shlex.quote(python) for python in spec.interpreters)
    return f"""#!/bin/sh
# glacier job environment ({spec.variant}: {", ".join(spec.requirements)}, glacier runtime) for
# CPython {spec.python_version} on {spec.architecture}. spark.archives unpacks it; PYSPARK_PYTHON runs this.
env_dir=$(cd "$(dirname "$0")/.." && pwd)
PYTHONPATH="$env_dir/site-packages${{PYTHONPATH:+:$PYTHONPATH}}"
export PYTHONPATH
for python in {tried}; do
    if [ -x "$python" ]; then
        exec "$python" "$@"
    fi
done
echo "glacier: this job's image has no CPython {spec.python_version} (looked for: {tried}); its \
packages are built for it. Fix: give the EMR Serverless application a custom image that \
installs it (dnf install -y python{spec.python_version}) with SparkConfig(emr_image=...)." >&2
exit 127
"""


def describe(build: JobPackageBuild) -> str:
    """One line for the CLI and the benchmark: what the package is and what it weighs."""
    spec = build.spec
    return (
        f"{spec.file_name}: {build.archive_bytes / 1e6:.1f} MB packed, "
        f"{build.installed_bytes / 1e6:.1f} MB installed, {len(build.wheels)} wheels "
        f"({spec.engine}, {spec.architecture}, {spec.python_tag})"
    )
