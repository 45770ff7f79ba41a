"""Reproducible artifacts: the code bundle, glacier's runtime zip and the Lambda layer."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from glacier.deploy import packaging
from glacier.errors import DeploymentError


def make_project(root: Path) -> None:
    files = {
        "pipelines.py": "X = 1\n",
        "lib/__init__.py": "",
        "lib/helpers.py": "def f():\n    return 1\n",
        "lib/__pycache__/helpers.cpython-311.pyc": "junk",
        ".venv/lib/site.py": "venv",
        "venv2/pyvenv.cfg": "home = /usr",
        "venv2/mod.py": "in a venv",
        "tests/test_pipes.py": "def test(): ...\n",
        "lib/test_helpers.py": "def test(): ...\n",
        "lib/conftest.py": "",
        "notes.txt": "not python",
        "node_modules/x.py": "",
        "build/gen.py": "",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_bundle_holds_only_the_projects_python_files(tmp_path: Path) -> None:
    make_project(tmp_path / "proj")
    bundle = packaging.code_bundle(tmp_path / "proj", out_dir=tmp_path / "out")
    with zipfile.ZipFile(bundle.path) as zf:
        names = zf.namelist()
        infos = zf.infolist()
    assert names == ["lib/__init__.py", "lib/helpers.py", "pipelines.py"]
    assert all(info.date_time == packaging.FIXED_TIME for info in infos)
    assert all(info.external_attr >> 16 == 0o100644 for info in infos)


def test_identical_inputs_give_byte_identical_bundles(tmp_path: Path) -> None:
    make_project(tmp_path / "a")
    make_project(tmp_path / "b")
    first = packaging.code_bundle(tmp_path / "a", out_dir=tmp_path / "out1")
    (tmp_path / "b" / "lib" / "helpers.py").touch()  # a newer mtime changes nothing
    second = packaging.code_bundle(tmp_path / "b", out_dir=tmp_path / "out2")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256
    (tmp_path / "b" / "pipelines.py").write_text("X = 2\n")
    third = packaging.code_bundle(tmp_path / "b", out_dir=tmp_path / "out2")
    assert third.sha256 != first.sha256 and third.path != second.path


def test_runtime_zip_is_glacier_without_deploy_code(tmp_path: Path) -> None:
    built = packaging.runtime_zip(out_dir=tmp_path)
    again = packaging.runtime_zip(out_dir=tmp_path / "again")
    assert built.path.read_bytes() == again.path.read_bytes()
    with zipfile.ZipFile(built.path) as zf:
        names = zf.namelist()
    assert "glacier/runtime/event.py" in names and "glacier/config.py" in names
    assert not any(n.startswith(("glacier/deploy/", "glacier/cli/")) or "__pycache__" in n for n in names)
    assert "glacier/__main__.py" not in names  # it starts the CLI, which is not shipped


def test_layer_key_follows_requirements_and_platform() -> None:
    arm = packaging.layer_spec("arm64", "3.12")
    x86 = packaging.layer_spec("x86_64", "3.12")
    assert arm.platform == "manylinux2014_aarch64" and x86.platform == "manylinux2014_x86_64"
    assert arm.key != x86.key
    assert arm.key == packaging.layer_spec("arm64", "3.12").key
    assert any(r.startswith("polars==") for r in arm.requirements)
    assert any(r.startswith("pydantic==") for r in arm.requirements)


def _fake_site(spec: packaging.LayerSpec, size: int) -> None:
    """Pre-fill the download cache, as pip would have, so the build runs offline."""
    text = "\n".join((*spec.requirements, spec.platform, spec.python_version))
    import hashlib

    site = packaging.cache_dir() / "site" / hashlib.sha256(text.encode()).hexdigest()[:20]
    (site / "polars").mkdir(parents=True)
    (site / "polars" / "__init__.py").write_text("version = 'fake'\n")
    (site / "polars" / "__pycache__").mkdir()
    (site / "polars" / "__pycache__" / "x.pyc").write_bytes(b"cache")
    (site / "polars" / "lib.so").write_bytes(b"\0" * size)
    (site / "polars-2.1.0.dist-info").mkdir()
    (site / "polars-2.1.0.dist-info" / "METADATA").write_text("Name: polars\n")
    (site / "polars-2.1.0.dist-info" / "INSTALLER").write_text("pip\n")


def test_layer_is_built_reproducibly_and_sized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_CACHE", str(tmp_path / "cache"))
    spec = packaging.layer_spec("arm64", "3.12")
    _fake_site(spec, 1000)
    built = packaging.build_layer(spec, pip=("false",))  # pip is never called: the cache is full
    first = built.path.read_bytes()
    with zipfile.ZipFile(built.path) as zf:
        names = zf.namelist()
    assert "python/polars/lib.so" in names and "python/glacier/runtime/event.py" in names
    assert "python/polars-2.1.0.dist-info/METADATA" in names
    assert not any("__pycache__" in n or n.endswith("INSTALLER") for n in names)
    assert built.unzipped_bytes == sum(i.file_size for i in zipfile.ZipFile(built.path).infolist())
    built.path.unlink()
    assert packaging.build_layer(spec, pip=("false",)).path.read_bytes() == first


def test_layer_over_250_mb_unzipped_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(packaging, "LAMBDA_UNZIPPED_LIMIT", 10_000)  # scaled down from 250 MB
    spec = packaging.layer_spec("arm64", "3.12")
    _fake_site(spec, 20_000)
    with pytest.raises(DeploymentError, match=r"unzips to .* over Lambda's 250 MB limit"):
        packaging.build_layer(spec, pip=("false",))


def test_failed_download_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_CACHE", str(tmp_path / "cache"))
    spec = packaging.layer_spec("x86_64", "3.12")
    with pytest.raises(DeploymentError, match="Could not download the layer's packages"):
        packaging.build_layer(spec, pip=("false",))
    assert not spec.path.exists()


def test_code_plus_layer_over_the_limit_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_CACHE", str(tmp_path / "cache"))
    spec = packaging.layer_spec("arm64", "3.12")
    _fake_site(spec, 1000)
    layer = packaging.build_layer(spec, pip=("false",))
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj" / "big.py").write_text("X = 1\n" * 5000)
    bundle = packaging.code_bundle(tmp_path / "proj", out_dir=tmp_path / "out")
    monkeypatch.setattr(packaging, "LAMBDA_UNZIPPED_LIMIT", layer.unzipped_bytes + 100)
    with pytest.raises(DeploymentError, match="code bundle plus the layer unzip to"):
        packaging.check_function_size("p", layer, bundle)
    monkeypatch.setattr(packaging, "LAMBDA_UNZIPPED_LIMIT", layer.unzipped_bytes + 100_000)
    packaging.check_function_size("p", layer, bundle)
