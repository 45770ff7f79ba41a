"""Wheels for a Spark job's platform: downloaded once, tag-checked, installed offline.

Glue 5 and EMR Serverless 7 run Amazon Linux 2023 (glibc 2.34), so a job can use any
manylinux wheel up to ``manylinux_2_34`` for its architecture and its CPython's ABI. pip picks
the wheels (``--platform`` / ``--python-version`` / ``--only-binary=:all:``, no compiler, no
Docker); every wheel is then checked against the same tag set with ``packaging.tags`` (pip's
own rules), so a wrong-architecture or wrong-ABI binary is refused here rather than at job start.

glacier's own runtime goes in as a wheel built here from its sources (``glacier_runtime``),
reproducibly: sorted entries, fixed timestamps, a RECORD of hashes.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import parse_wheel_filename

from glacier import __version__
from glacier.deploy.packaging import (
    files_digest,
    pip_into_cache,
    platform_flags,
    run_pip,
    runtime_files,
    write_zip,
)
from glacier.errors import DeploymentError

Architecture = Literal["x86_64", "aarch64"]
AL2023_GLIBC_MINOR = 34  # Amazon Linux 2023 ships glibc 2.34 (Glue 5, EMR 7)
RUNTIME_DIST = "glacier_runtime"
FIXED_MTIME = 315_532_800  # 1980-01-01, the zip entries' fixed time, for the tar members too


def manylinux_platforms(architecture: Architecture) -> tuple[str, ...]:
    """Every manylinux platform tag a glibc-2.34 machine of this architecture accepts, most
    specific first (pip's preference order). aarch64 wheels start at glibc 2.17."""
    lowest = 5 if architecture == "x86_64" else 17
    legacy = {17: "manylinux2014", 12: "manylinux2010", 5: "manylinux1"}
    found: list[str] = []
    for minor in range(AL2023_GLIBC_MINOR, lowest - 1, -1):
        found.append(f"manylinux_2_{minor}_{architecture}")
        if minor in legacy and (architecture == "x86_64" or minor == 17):
            found.append(f"{legacy[minor]}_{architecture}")
    return tuple(found)


def supported_tags(python_version: str, platforms: Sequence[str]) -> frozenset[Tag]:
    """The wheel tags CPython ``python_version`` on ``platforms`` can install (as pip computes)."""
    version = tuple(int(part) for part in python_version.split("."))
    interpreter = f"cp{''.join(str(part) for part in version)}"
    return frozenset(
        (
            *cpython_tags(version, platforms=list(platforms)),
            *compatible_tags(version, interpreter=interpreter, platforms=list(platforms)),
        )
    )


def check_wheel_tags(wheels: Iterable[Path], python_version: str, platforms: Sequence[str]) -> None:
    """Refuse any wheel the job's CPython on its platform could not install."""
    tags = supported_tags(python_version, platforms)
    wrong = sorted(w.name for w in wheels if not parse_wheel_filename(w.name)[3] & tags)
    if wrong:
        raise DeploymentError(
            f"The job package for CPython {python_version} on {platforms[0]} would hold wheels that "
            f"platform cannot load: {', '.join(wrong)}.",
            fix="pin versions that publish manylinux wheels for that platform and Python, then deploy again.",
        )


def download_wheels(
    requirements: Sequence[str], python_version: str, platforms: Sequence[str], pip: Sequence[str]
) -> Path:
    """The wheels of ``requirements`` and their dependencies for the platform, from PyPI once
    per (requirements, platforms, python); kept on disk, so glacier's own code can change and
    the package be rebuilt offline."""
    return pip_into_cache(
        "wheels",
        pip,
        "download",
        requirements,
        python_version,
        platforms,
        what=f"download {', '.join(requirements)} for CPython {python_version} on {platforms[0]}",
        fix="check the network access to PyPI and that these versions publish wheels for that "
        "platform, then deploy again.",
    )


def wheel_files(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.whl"))


def wheel_contents_size(wheel: Path) -> int:
    with zipfile.ZipFile(wheel) as zf:
        return sum(info.file_size for info in zf.infolist())


# -- glacier's runtime as a wheel -------------------------------------------------------------


@dataclass(frozen=True)
class RuntimeWheel:
    name: str  # the wheel's file name, which pip reads its tags and version from
    version: str
    requires: tuple[str, ...]
    entries: tuple[tuple[str, bytes], ...]


def runtime_wheel(requires: Sequence[str]) -> RuntimeWheel:
    """glacier's runtime modules as a pure wheel whose version carries their digest (so a change
    to glacier's code is a new file name) and whose dependencies are ``requires``."""
    files = runtime_files()
    version = f"{__version__}+{files_digest(files)[:12]}"
    info = f"{RUNTIME_DIST}-{version}.dist-info"
    metadata = "\n".join(
        [
            "Metadata-Version: 2.1",
            "Name: glacier-runtime",
            f"Version: {version}",
            "Summary: glacier's cloud runtime (Lambda, Glue and EMR Serverless entry points)",
            "Requires-Python: >=3.11",
            *(f"Requires-Dist: {requirement}" for requirement in requires),
        ]
    )
    wheel = "Wheel-Version: 1.0\nGenerator: glacier\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    entries = [*files, (f"{info}/METADATA", f"{metadata}\n".encode()), (f"{info}/WHEEL", wheel.encode())]
    record = "".join(f"{name},sha256={_b64_sha256(data)},{len(data)}\n" for name, data in sorted(entries))
    entries.append((f"{info}/RECORD", f"{record}{info}/RECORD,,\n".encode()))
    return RuntimeWheel(
        name=f"{RUNTIME_DIST}-{version}-py3-none-any.whl",
        version=version,
        requires=tuple(requires),
        entries=tuple(sorted(entries)),
    )


def _b64_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def write_runtime_wheel(wheel: RuntimeWheel, directory: Path) -> Path:
    path = directory / wheel.name
    write_zip(wheel.entries, path)
    return path


# -- offline install and reproducible tarballs ------------------------------------------------


@contextmanager
def installed(
    requirements: Sequence[str],
    wheelhouses: Sequence[Path],
    python_version: str,
    platforms: Sequence[str],
    pip: Sequence[str],
) -> Iterator[Path]:
    """``requirements`` installed into a temporary directory from the wheelhouses alone
    (``--no-index``: no PyPI), for the job's platform; which also proves the set complete."""
    with tempfile.TemporaryDirectory(prefix="glacier-install-") as target:
        run_pip(
            pip,
            [
                "install",
                "--no-index",
                "--no-compile",
                *(flag for house in wheelhouses for flag in ("--find-links", str(house))),
                *platform_flags(python_version, platforms),
                "--target",
                target,
                *requirements,
            ],
            what=f"install {', '.join(requirements)} from the job's own wheels",
            fix="delete the wheel cache ($GLACIER_CACHE/wheels) and deploy again.",
        )
        yield Path(target)


def write_tar_gz(entries: Iterable[tuple[str, bytes, int]], dest: Path) -> None:
    """A reproducible .tar.gz of (name, data, mode) entries, with their parent directories:
    sorted, owner root, fixed times, no name or time in the gzip header; written atomically."""
    files = sorted(entries)
    dirs = {parent for name, _, _ in files for parent in _parents(name)}
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    try:
        # gzip level 6: level 9 takes twice as long on polars' 180 MB for 0.5% less
        with (
            os.fdopen(fd, "wb") as raw,
            gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=6) as gz,
            tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar,
        ):
            for name, data, mode in sorted([(d, b"", 0o755) for d in dirs] + files):
                info = tarfile.TarInfo(name)
                info.type = tarfile.DIRTYPE if name in dirs else tarfile.REGTYPE
                info.mode, info.mtime, info.size = mode, FIXED_MTIME, len(data)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info, io.BytesIO(data) if info.isreg() else None)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _parents(name: str) -> list[str]:
    parts = name.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def tar_gz_unpacked_size(path: Path) -> int:
    with tarfile.open(path, "r:gz") as tar:
        return sum(member.size for member in tar.getmembers() if member.isreg())
