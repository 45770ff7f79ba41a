"""The job packages Glue and EMR Serverless read from S3: named offline, built from PyPI's real
wheels for the job's platform, installed offline, byte-identical on rebuild.

The builds download from PyPI (once per requirement set in the session's cache), like the
Lambda layer test. What the jobs would do is done here for real where this machine allows it:
Glue's ``pip install --no-index`` of the zip of wheels, and ``PYSPARK_PYTHON=./glacier-env/bin/
python`` on the unpacked EMR archive, both run by a clean CPython 3.11 on x86_64; the ARM64
archive is checked by its wheel tags and the ELF machine of its binaries.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from glacier.deploy import job_packages as jp
from glacier.deploy import wheelhouse
from glacier.errors import DeploymentError
from glacier.io.user_cache import cache_dir

ELF_X86_64, ELF_AARCH64 = 0x3E, 0xB7


def _elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF", "not an ELF shared object"
    return int.from_bytes(data[18:20], "little")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(
    args: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False, timeout=300, cwd=cwd, env=env)


@pytest.fixture(scope="module")
def clean_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A CPython 3.11 with nothing installed: stands for the job's interpreter."""
    if sys.version_info[:2] != (3, 11) or os.uname().machine != "x86_64":
        pytest.skip("the job packages are built for CPython 3.11; running them needs one on x86_64")
    venv = tmp_path_factory.mktemp("clean-python")
    done = _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    assert done.returncode == 0, done.stderr
    return str(venv / "bin" / "python")


@pytest.fixture(scope="module")
def glue_polars() -> jp.JobPackageBuild:
    return jp.build_job_package(jp.glue_package_spec("polars"))


@pytest.fixture(scope="module")
def glue_pyspark() -> jp.JobPackageBuild:
    return jp.build_job_package(jp.glue_package_spec("pyspark"))


# -- named without building -------------------------------------------------------------------


def test_specs_name_their_package_without_building_anything() -> None:
    before = set(cache_dir().glob("*")) if cache_dir().exists() else set()
    glue = jp.glue_package_spec()
    arm = jp.emr_package_spec("ARM64")
    assert (glue.architecture, glue.python_tag, glue.engine) == ("x86_64", "cp311", "glue")
    assert (arm.architecture, arm.python_tag) == ("aarch64", "cp311")
    assert glue.file_name.endswith(".gluewheels.zip") and arm.file_name.endswith(".tar.gz")
    assert glue.s3_key == f"jobs/{glue.file_name}" and glue.key in glue.file_name
    assert "aarch64" in arm.file_name and "x86_64" in jp.emr_package_spec("X86_64").file_name
    assert glue.requirements == tuple(r for r in glue.requirements if "==" in r)  # pinned
    assert jp.glue_package_spec() == glue and jp.glue_package_spec().key == glue.key  # stable
    keys = {
        glue.key,
        arm.key,
        jp.glue_package_spec("pyspark").key,
        jp.emr_package_spec("X86_64").key,
        jp.emr_package_spec("ARM64", "pyspark").key,
    }
    assert len(keys) == 5  # engine, architecture and variant each name a different package
    assert not any(r.startswith("polars") for r in jp.glue_package_spec("pyspark").requirements)
    after = set(cache_dir().glob("*")) if cache_dir().exists() else set()
    assert not {p.name for p in after - before} & {"jobs", "wheels"}


def test_glue_arguments_read_the_package_from_s3_only() -> None:
    uri = f"s3://artifacts/{jp.glue_package_spec().s3_key}"
    assert jp.glue_job_arguments(uri) == {
        "--additional-python-modules": uri,
        "--python-modules-installer-option": "--no-index",
    }


def test_emr_parameters_unpack_the_archive_and_run_its_python() -> None:
    uri = f"s3://artifacts/{jp.emr_package_spec().s3_key}"
    python = "./glacier-env/bin/python"
    assert jp.emr_spark_conf(uri) == {
        "spark.archives": f"{uri}#glacier-env",
        "spark.emr-serverless.driverEnv.PYSPARK_DRIVER_PYTHON": python,
        "spark.emr-serverless.driverEnv.PYSPARK_PYTHON": python,
        "spark.emr-serverless.executorEnv.PYSPARK_PYTHON": python,
        "spark.executorEnv.PYSPARK_PYTHON": python,
    }
    text = jp.emr_spark_submit_parameters(uri)
    assert text.startswith(f"--conf spark.archives={uri}#glacier-env --conf ")
    assert text.count("--conf ") == 5


@pytest.mark.parametrize(
    ("call", "uri"),
    [
        (jp.glue_job_arguments, "polars==2.1.0"),
        (jp.glue_job_arguments, "s3://artifacts/jobs/x.tar.gz"),
        (jp.emr_spark_conf, "/tmp/x.tar.gz"),
    ],
)
def test_a_wrong_package_location_is_refused(call: object, uri: str) -> None:
    with pytest.raises(DeploymentError, match="is not the S3 location of a job package") as err:
        call(uri)  # type: ignore[operator]
    assert uri in str(err.value) and err.value.fix


def test_an_unknown_emr_architecture_is_refused() -> None:
    with pytest.raises(DeploymentError, match="no architecture 'arm64'") as err:
        jp.emr_package_spec("arm64")  # type: ignore[arg-type]
    assert "ARM64" in (err.value.fix or "")


# -- platform tags ----------------------------------------------------------------------------


def test_platforms_stop_at_amazon_linux_2023_glibc() -> None:
    x86, arm = wheelhouse.manylinux_platforms("x86_64"), wheelhouse.manylinux_platforms("aarch64")
    assert x86[0] == "manylinux_2_34_x86_64" and "manylinux2014_x86_64" in x86 and "manylinux1_x86_64" in x86
    assert arm[0] == "manylinux_2_34_aarch64" and arm[-2:] == (
        "manylinux_2_17_aarch64",
        "manylinux2014_aarch64",
    )
    assert "manylinux2014_aarch64" in arm and not any("2_35" in p or "x86" in p for p in arm)


@pytest.mark.parametrize(
    "wheel",
    [
        "pydantic_core-2.50.5-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",  # ABI
        "polars_runtime_32-2.1.0-cp311-abi3-manylinux_2_17_aarch64.manylinux2014_aarch64.whl",  # arch
        "polars_runtime_32-2.1.0-cp311-abi3-manylinux_2_39_x86_64.whl",  # newer glibc than AL2023
        "polars_runtime_32-2.1.0-cp311-abi3-macosx_11_0_arm64.whl",
    ],
)
def test_a_wheel_the_job_cannot_load_is_refused(wheel: str) -> None:
    fine = "typing_extensions-4.16.0-py3-none-any.whl"
    platforms = wheelhouse.manylinux_platforms("x86_64")
    wheelhouse.check_wheel_tags([Path(fine)], "3.11", platforms)
    with pytest.raises(DeploymentError, match="cannot load") as err:
        wheelhouse.check_wheel_tags([Path(fine), Path(wheel)], "3.11", platforms)
    assert wheel in str(err.value) and fine not in str(err.value)


def test_pip_failure_names_the_requirements() -> None:
    with pytest.raises(DeploymentError, match=r"Could not download polars==0\.0\.0\.1") as err:
        wheelhouse.download_wheels(
            ("polars==0.0.0.1",),
            "3.11",
            wheelhouse.manylinux_platforms("x86_64"),
            (sys.executable, "-m", "pip"),
        )
    assert "PyPI" in (err.value.fix or "")


# -- glacier's runtime wheel and the tarball --------------------------------------------------


def test_runtime_wheel_is_reproducible_and_installs_with_pip(tmp_path: Path) -> None:
    wheel = wheelhouse.runtime_wheel(("pydantic==2.14.4",))
    assert wheelhouse.runtime_wheel(("pydantic==2.14.4",)) == wheel
    first = wheelhouse.write_runtime_wheel(wheel, tmp_path / "a")
    second = wheelhouse.write_runtime_wheel(wheel, tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        info = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        assert "Requires-Dist: pydantic==2.14.4" in zf.read(info).decode()
        assert "glacier/runtime/glue_entry.py" in zf.namelist()
        assert not any(n.startswith(("glacier/deploy/", "glacier/cli/")) for n in zf.namelist())
    target = tmp_path / "target"
    done = _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--target",
            str(target),
            str(first),
        ]
    )
    assert done.returncode == 0, done.stderr  # pip checks the RECORD hashes against the files
    assert (target / "glacier" / "runtime" / "event.py").exists()


def test_tarball_is_reproducible_whatever_the_order(tmp_path: Path) -> None:
    entries = [("site-packages/a/b.py", b"x = 1\n", 0o644), ("bin/python", b"#!/bin/sh\n", 0o755)]
    wheelhouse.write_tar_gz(entries, tmp_path / "one.tar.gz")
    wheelhouse.write_tar_gz(list(reversed(entries)), tmp_path / "two.tar.gz")
    data = (tmp_path / "one.tar.gz").read_bytes()
    assert data == (tmp_path / "two.tar.gz").read_bytes()
    assert data[4:8] == b"\0\0\0\0"  # no time in the gzip header
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
    assert list(members) == sorted(members) and {"site-packages", "site-packages/a", "bin"} <= set(members)
    assert members["bin/python"].mode == 0o755 and members["site-packages/a/b.py"].mode == 0o644
    assert {(m.uid, m.gid, m.uname, m.mtime) for m in members.values()} == {
        (0, 0, "", wheelhouse.FIXED_MTIME)
    }


def test_emr_launcher_says_plainly_when_the_image_lacks_the_python(tmp_path: Path) -> None:
    spec = jp.emr_package_spec("X86_64", "pyspark", interpreters=("/nonexistent/python3.11",))
    launcher = tmp_path / "glacier-env" / "bin" / "python"
    launcher.parent.mkdir(parents=True)
    launcher.write_text(jp.emr_launcher(spec))
    launcher.chmod(0o755)
    done = _run(["./glacier-env/bin/python", "-c", "pass"], cwd=tmp_path)
    assert done.returncode == 127
    assert "no CPython 3.11 (looked for: /nonexistent/python3.11)" in done.stderr
    assert "Fix:" in done.stderr and "dnf install -y python3.11" in done.stderr


# -- real builds from PyPI --------------------------------------------------------------------


def test_glue_package_holds_x86_64_cp311_wheels_and_every_pin(glue_polars: jp.JobPackageBuild) -> None:
    with zipfile.ZipFile(glue_polars.path) as zf:
        names = zf.namelist()
        pins = zf.read("wheels/requirements.txt").decode().split()
        wheels = {n.removeprefix("wheels/"): n for n in names if n.endswith(".whl")}
        assert set(wheels) == set(glue_polars.wheels) and len(pins) == len(wheels)
        runtime = next(w for w in wheels if w.startswith("polars_runtime_32-"))
        core = next(w for w in wheels if w.startswith("pydantic_core-"))
        assert "x86_64" in runtime and ("-cp311-abi3-" in runtime or "-cp311-cp311-" in runtime)
        assert "-cp311-cp311-" in core and "manylinux" in core and "x86_64" in core
        assert any(w.startswith("glacier_runtime-") for w in wheels)
        for wheel in (runtime, core):
            with zipfile.ZipFile(io.BytesIO(zf.read(wheels[wheel]))) as inner:
                so = next(n for n in inner.namelist() if n.endswith(".so"))
                assert _elf_machine(inner.read(so)[:64]) == ELF_X86_64, so
    assert {p.split("==")[0].replace("-", "_") for p in pins} == {w.split("-")[0] for w in wheels}
    assert glue_polars.archive_bytes == glue_polars.path.stat().st_size
    assert glue_polars.installed_bytes > glue_polars.archive_bytes > 10_000_000


def test_glue_package_installs_with_no_index_and_runs_polars(
    glue_polars: jp.JobPackageBuild, clean_python: str, tmp_path: Path
) -> None:
    """What Glue does with --additional-python-modules <zip> --python-modules-installer-option
    --no-index: pip installs the zip's wheels by its requirements file, with no index."""
    with zipfile.ZipFile(glue_polars.path) as zf:
        zf.extractall(tmp_path / "zip")
    target = tmp_path / "site"
    done = _run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-index", "--no-compile",
            "--find-links", str(tmp_path / "zip" / "wheels"),
            "-r", str(tmp_path / "zip" / "wheels" / "requirements.txt"), "--target", str(target),
        ]
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    script = (
        "import polars as pl, pydantic, glacier.runtime.core, glacier.runtime.event, sys\n"
        f"assert pl.__file__.startswith({str(target)!r}), pl.__file__\n"
        f"assert glacier.runtime.core.__file__.startswith({str(target)!r})\n"
        "df = pl.DataFrame({'k': [1, 1, 2], 'v': [1, 2, 3]})\n"
        "print(df.group_by('k').agg(pl.col('v').sum()).sort('k')['v'].to_list())\n"
    )
    ran = _run(
        [clean_python, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": os.environ["PATH"]},
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "[3, 3]"


def test_glue_package_rebuilds_byte_identical(glue_polars: jp.JobPackageBuild) -> None:
    digest = _sha256(glue_polars.path)
    glue_polars.path.unlink()
    again = jp.build_job_package(glue_polars.spec)  # from the cached wheels
    assert _sha256(again.path) == digest
    house = cache_dir() / "wheels"
    shutil.rmtree(house)
    again.path.unlink()
    fresh = jp.build_job_package(glue_polars.spec)  # wheels downloaded again
    assert _sha256(fresh.path) == digest and fresh == glue_polars


def test_pyspark_variant_has_glacier_and_pydantic_but_no_polars(
    glue_pyspark: jp.JobPackageBuild, glue_polars: jp.JobPackageBuild, clean_python: str, tmp_path: Path
) -> None:
    assert not any(w.startswith("polars") for w in glue_pyspark.wheels)
    assert any(w.startswith("pydantic_core-") for w in glue_pyspark.wheels)
    assert glue_pyspark.installed_bytes * 10 < glue_polars.installed_bytes
    with zipfile.ZipFile(glue_pyspark.path) as zf:
        zf.extractall(tmp_path / "zip")
    target = tmp_path / "site"
    done = _run(
        [
            sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
            "--find-links", str(tmp_path / "zip" / "wheels"),
            "-r", str(tmp_path / "zip" / "wheels" / "requirements.txt"), "--target", str(target),
        ]
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    script = (
        "import glacier.runtime.event, glacier.runtime.glue_entry\n"
        "try:\n    import polars\nexcept ModuleNotFoundError:\n    print('no polars')\n"
    )
    ran = _run(
        [clean_python, "-c", script],
        cwd=tmp_path,
        env={"PYTHONPATH": str(target), "PATH": os.environ["PATH"]},
    )
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "no polars"


def test_emr_arm64_archive_holds_aarch64_cp311_binaries() -> None:
    build = jp.build_job_package(jp.emr_package_spec("ARM64", "polars"))
    with tarfile.open(build.path, "r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        launcher = members["bin/python"]
        assert launcher.mode & stat.S_IXUSR and launcher.isreg()
        text = tar.extractfile(launcher).read().decode()  # type: ignore[union-attr]
        assert text.startswith("#!/bin/sh") and "/usr/bin/python3.11" in text
        polars_so = [
            n for n in members if n.startswith("site-packages/_polars_runtime") and n.endswith(".so")
        ]
        core_so = [n for n in members if n.startswith("site-packages/pydantic_core/") and n.endswith(".so")]
        assert polars_so and core_so
        assert any("cpython-311-aarch64" in n for n in core_so), core_so
        for name in (polars_so[0], core_so[0]):
            assert _elf_machine(tar.extractfile(name).read(64)) == ELF_AARCH64, name  # type: ignore[union-attr]
        assert "site-packages/glacier/runtime/glue_entry.py" in members
        assert not any(
            "__pycache__" in n or n.endswith(("/RECORD", "/INSTALLER", "/direct_url.json")) for n in members
        )
    assert build.installed_bytes == sum(m.size for m in members.values() if m.isreg())
    assert build.archive_bytes == build.path.stat().st_size < build.installed_bytes


def test_emr_archive_runs_its_native_packages_through_its_launcher(clean_python: str, tmp_path: Path) -> None:
    """What EMR Serverless does: spark.archives unpacks the archive as ./glacier-env and
    PYSPARK_PYTHON=./glacier-env/bin/python starts the driver's and the executors' Python.
    (The pyspark variant, whose pydantic_core is a native extension like polars', keeps this
    fast; the polars wheels themselves are run by the Glue test above.)"""
    spec = jp.emr_package_spec("X86_64", "pyspark", interpreters=("/nonexistent/python3.11", clean_python))
    build = jp.build_job_package(spec)
    env_dir = tmp_path / "glacier-env"
    env_dir.mkdir()
    done = _run(["tar", "-xzf", str(build.path), "-C", str(env_dir)])  # as Hadoop's unTar does
    assert done.returncode == 0, done.stderr
    script = (
        "import sys, pydantic_core, glacier.runtime.event as event\n"
        "assert pydantic_core.__file__.startswith(sys.path[1]), (pydantic_core.__file__, sys.path)\n"
        "assert event.__file__.startswith(sys.path[1])\n"
        "assert '/spark/python' in sys.path  # the PYTHONPATH Spark sets is kept, after ours\n"
        "print(sys.version_info[:2], pydantic_core.SchemaValidator({'type': 'int'}).validate_python('7'))\n"
    )
    env = {"PYTHONPATH": "/spark/python", "PATH": os.environ["PATH"]}
    ran = _run(["./glacier-env/bin/python", "-c", script], cwd=tmp_path, env=env)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "(3, 11) 7"


def test_emr_archive_rebuilds_byte_identical() -> None:
    build = jp.build_job_package(jp.emr_package_spec("ARM64", "pyspark"))
    digest = _sha256(build.path)
    build.path.unlink()
    assert _sha256(jp.build_job_package(build.spec).path) == digest
