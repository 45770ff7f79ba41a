"""Reproducible artifacts: the code bundle, glacier's runtime zip, and the Lambda layer.

Every zip is built the same way: entries sorted, timestamps fixed, permissions fixed,
no ``__pycache__``; so identical inputs give byte-identical files, and each file is named
by the hash of what went in (a content-addressed cache on disk).

The layer holds polars + pydantic (downloaded with pip for the function's platform) plus
glacier's runtime. It is keyed by its pinned requirements and platform, so ``glacier plan``
can name it without building it; building it (``build_layer``) needs PyPI once per key.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from glacier.code import function_source
from glacier.dag.model import PipelineDAG, TaskNode
from glacier.errors import DeploymentError
from glacier.io.user_cache import cache_dir

FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
LAMBDA_UNZIPPED_LIMIT = 262_144_000  # 250 MB: function code plus all its layers, unzipped
LAYER_PACKAGES = ("polars", "pydantic")

# Never part of a user's code bundle: tooling, environments, tests, caches.
_SKIP_DIRS = {
    "__pycache__",
    "build",
    "dist",
    "env",
    "node_modules",
    "site-packages",
    "test",
    "tests",
    "venv",
}
_SKIP_FILES = re.compile(r"^(test_.*|.*_test|conftest)\.py$")
# glacier's own modules that never run inside Lambda/Glue (they need pulumi, click, boto3;
# __main__ starts the CLI).
_RUNTIME_EXCLUDE = {"deploy", "cli", "cloud", "__main__.py", "__pycache__"}


def write_zip(entries: Iterable[tuple[str, bytes]], dest: Path) -> None:
    """Write a reproducible zip atomically (a reader never sees a half-written file)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.")
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w") as zf:
            for name, data in sorted(entries):
                info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3  # unix, so the permission bits below are honoured
                info.external_attr = 0o100644 << 16
                zf.writestr(info, data, compresslevel=9)
        os.replace(tmp, dest)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def files_digest(entries: Iterable[tuple[str, bytes]]) -> str:
    h = hashlib.sha256()
    for name, data in sorted(entries):
        h.update(name.encode() + b"\0" + hashlib.sha256(data).digest())
    return h.hexdigest()


# -- the user's code bundle ------------------------------------------------------------------


def project_files(root: Path) -> list[tuple[str, bytes]]:
    """The ``.py`` files of the user's project under ``root``, sorted by archive name."""
    found: list[tuple[str, bytes]] = []
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and d not in _SKIP_DIRS
            and not d.endswith(".egg-info")
            and not (here / d / "pyvenv.cfg").exists()
        )
        for name in sorted(files):
            if name.endswith(".py") and not _SKIP_FILES.match(name):
                path = here / name
                found.append((path.relative_to(root).as_posix(), path.read_bytes()))
    return sorted(found)


@dataclass(frozen=True)
class Artifact:
    path: Path
    sha256: str  # of the inputs (names + contents): identical inputs, identical name
    entries: int


def code_bundle(root: Path, *, out_dir: Path | None = None) -> Artifact:
    files = project_files(root)
    if not files:
        raise DeploymentError(
            f"No Python files found under '{root}' for the code bundle.",
            fix="run glacier from the project that holds your pipeline module.",
        )
    digest = files_digest(files)
    dest = (out_dir or cache_dir() / "code") / f"code-{digest[:16]}.zip"
    if not dest.exists():
        write_zip(files, dest)
    return Artifact(path=dest, sha256=digest, entries=len(files))


class CodeFingerprints:
    """Per task, a hash of everything that can change what the task does once deployed.

    It covers the task's definition, its own source, the source of any other task it
    mentions by name, and every line of the project that is not a task's body. Editing one
    task's body therefore changes that task's fingerprint only, so only its function or job
    is updated (Lambda keeps the code it was last given, which holds that task unchanged).
    """

    def __init__(
        self,
        dag: PipelineDAG,
        files: list[tuple[str, bytes]],
        functions: Mapping[str, Callable[..., Any]],
    ) -> None:
        self.dag = dag
        self.sources = {task.name: function_source(functions.get(task.name)) for task in dag.tasks}
        rest: list[tuple[str, bytes]] = []
        for name, data in files:
            text = data.decode("utf-8", errors="replace")
            for src in self.sources.values():
                if src:
                    text = text.replace(src, "")
            rest.append((name, text.encode()))
        self.rest_digest = files_digest(rest)

    def of(self, task: TaskNode) -> str:
        own = self.sources[task.name]
        mentioned = sorted(
            other.name for other in self.dag.tasks if other.name != task.name and _function_name(other) in own
        )
        h = hashlib.sha256()
        h.update(task.model_dump_json().encode())
        h.update(self.rest_digest.encode())
        for name in (task.name, *mentioned):
            h.update(hashlib.sha256(self.sources[name].encode()).digest())
        return h.hexdigest()


def _function_name(task: TaskNode) -> str:
    return task.code_ref.rsplit(":", 1)[-1].rsplit(".", 1)[-1]


# -- glacier's own runtime -------------------------------------------------------------------


def runtime_files() -> list[tuple[str, bytes]]:
    """glacier's modules that the code inside Lambda/Glue imports, as ``glacier/...`` entries."""
    package = Path(__file__).resolve().parent.parent
    found: list[tuple[str, bytes]] = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        if rel.parts[0] in _RUNTIME_EXCLUDE or "__pycache__" in rel.parts:
            continue
        found.append((f"glacier/{rel.as_posix()}", path.read_bytes()))
    return found


def runtime_zip(*, out_dir: Path | None = None) -> Artifact:
    """glacier's runtime as a zip for Spark jobs (``--extra-py-files`` / ``spark.submit.pyFiles``)."""
    files = runtime_files()
    digest = files_digest(files)
    dest = (out_dir or cache_dir() / "runtime") / f"glacier-runtime-{digest[:16]}.zip"
    if not dest.exists():
        write_zip(files, dest)
    return Artifact(path=dest, sha256=digest, entries=len(files))


def glue_entry_script() -> Path:
    """The Glue / EMR Serverless entry script, uploaded from the installed package."""
    return Path(__file__).resolve().parent.parent / "runtime" / "glue_entry.py"


# -- the Lambda layer --------------------------------------------------------------------------


def pinned_requirements() -> tuple[str, ...]:
    """polars and pydantic pinned to the versions installed here (what the tests ran with)."""
    return tuple(f"{name}=={metadata.version(name)}" for name in LAYER_PACKAGES)


@dataclass(frozen=True)
class LayerSpec:
    architecture: Literal["arm64", "x86_64"]
    python_version: str  # "3.12"
    requirements: tuple[str, ...]
    runtime_sha256: str

    @property
    def platform(self) -> str:
        return "manylinux2014_aarch64" if self.architecture == "arm64" else "manylinux2014_x86_64"

    @property
    def key(self) -> str:
        """Names the layer by what goes in: requirements, platform, python, glacier runtime."""
        text = "\n".join(
            (
                *self.requirements,
                self.platform,
                f"cp{self.python_version.replace('.', '')}",
                self.runtime_sha256,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    @property
    def path(self) -> Path:
        return cache_dir() / "layers" / f"layer-{self.architecture}-py{self.python_version}-{self.key}.zip"


def layer_spec(architecture: Literal["arm64", "x86_64"], python_version: str) -> LayerSpec:
    return LayerSpec(
        architecture=architecture,
        python_version=python_version,
        requirements=pinned_requirements(),
        runtime_sha256=files_digest(runtime_files()),
    )


@dataclass(frozen=True)
class LayerBuild:
    path: Path
    zipped_bytes: int
    unzipped_bytes: int


def unzipped_size(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        return sum(info.file_size for info in zf.infolist())


def build_layer(spec: LayerSpec, *, pip: tuple[str, ...] | None = None) -> LayerBuild:
    """Build (or reuse from the cache) the layer zip; refuse one over Lambda's 250 MB."""
    if not spec.path.exists():
        site = _downloaded_packages(spec, pip or (sys.executable, "-m", "pip"))
        entries = tree_entries(site)
        entries.extend((f"python/{name}", data) for name, data in runtime_files())
        write_zip(entries, spec.path)
    build = LayerBuild(spec.path, spec.path.stat().st_size, unzipped_size(spec.path))
    if build.unzipped_bytes > LAMBDA_UNZIPPED_LIMIT:
        raise DeploymentError(
            f"The Lambda layer ({', '.join(spec.requirements)}, {spec.platform}) unzips to "
            f"{build.unzipped_bytes / 1e6:.1f} MB, over Lambda's 250 MB limit.",
            fix="pin smaller package versions, or run the large tasks on Spark (provider.spark()).",
        )
    return build


def check_function_size(pipeline: str, layer: LayerBuild, bundle: Artifact) -> None:
    """Lambda's 250 MB limit covers the function's code and all its layers, unzipped."""
    total = layer.unzipped_bytes + unzipped_size(bundle.path)
    if total > LAMBDA_UNZIPPED_LIMIT:
        raise DeploymentError(
            f"Pipeline '{pipeline}': its code bundle plus the layer unzip to {total / 1e6:.1f} MB, "
            "over Lambda's 250 MB limit.",
            fix="keep data files and large modules out of the project folder, or run the tasks on Spark.",
        )


def _downloaded_packages(spec: LayerSpec, pip: tuple[str, ...]) -> Path:
    """The layer's third-party packages, installed for its platform once per requirement set
    (kept on disk, so a change to glacier's own code rebuilds the zip without PyPI)."""
    return pip_into_cache(
        "site",
        pip,
        "install",
        spec.requirements,
        spec.python_version,
        (spec.platform,),
        what=f"download the layer's packages ({', '.join(spec.requirements)}) for {spec.platform}",
        fix="check the network access to PyPI, then run the deployment again.",
    )


# -- pip for another platform (the layer's and the Spark jobs' packages) ----------------------


def platform_flags(python_version: str, platforms: Sequence[str]) -> list[str]:
    """pip's flags that pick binary wheels for CPython ``python_version`` on ``platforms``
    (no compiler, no Docker): the same for the layer and every job package."""
    flags = ["--only-binary=:all:", "--implementation", "cp", "--python-version", python_version]
    for platform in platforms:
        flags += ["--platform", platform]
    return flags


def run_pip(pip: Sequence[str], args: Sequence[str], *, what: str, fix: str) -> None:
    """``pip <args>`` quietly; a failure is one error with pip's last message."""
    command = [*pip, *args[:1], "--quiet", "--disable-pip-version-check", *args[1:]]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if not line.startswith("WARNING")]
        detail = lines[-1] if lines else "pip failed"
        raise DeploymentError(f"Could not {what}: {detail}.", fix=fix)


def pip_into_cache(
    kind: str,
    pip: Sequence[str],
    verb: Literal["install", "download"],
    requirements: Sequence[str],
    python_version: str,
    platforms: Sequence[str],
    *,
    what: str,
    fix: str,
) -> Path:
    """``$GLACIER_CACHE/<kind>/<key>``: what ``pip install --target`` (installed packages) or
    ``pip download --dest`` (wheels) puts there for the platform, from PyPI once per
    (requirements, platforms, python), published whole (a rename) so a killed pip leaves none."""
    text = "\n".join((*requirements, *platforms, python_version))
    dest = cache_dir() / kind / hashlib.sha256(text.encode()).hexdigest()[:20]
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{kind}-", dir=dest.parent) as tmp:
        where = ["--target", tmp, "--no-compile"] if verb == "install" else ["--dest", tmp]
        run_pip(
            pip, [verb, *platform_flags(python_version, platforms), *where, *requirements], what=what, fix=fix
        )
        os.replace(tmp, dest)
        Path(tmp).mkdir()  # TemporaryDirectory removes what it created
    return dest


def tree_entries(target: Path) -> list[tuple[str, bytes]]:
    entries: list[tuple[str, bytes]] = []
    for path in sorted(target.rglob("*")):
        rel = path.relative_to(target)
        if path.is_dir() or "__pycache__" in rel.parts or path.suffix == ".pyc":
            continue
        # pip's install records name the installer and the time-dependent direct URL: drop them.
        if rel.parts[0].endswith(".dist-info") and rel.name in {
            "INSTALLER",
            "REQUESTED",
            "direct_url.json",
            "RECORD",
        }:
            continue
        entries.append((f"python/{rel.as_posix()}", path.read_bytes()))
    return entries
