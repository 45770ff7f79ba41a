"""The real Lambda layer: pip downloads polars + pydantic for Lambda's platform from PyPI,
the zip holds aarch64 binaries for CPython 3.12, stays under Lambda's limit, and rebuilds
byte for byte."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from glacier.deploy.packaging import LAMBDA_UNZIPPED_LIMIT, build_layer, layer_spec

ELF_MACHINE_AARCH64 = 0xB7


def _elf_machine(data: bytes) -> int:
    assert data[:4] == b"\x7fELF", "not an ELF shared object"
    return int.from_bytes(data[18:20], "little")


def test_arm64_layer_from_pypi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GLACIER_CACHE", str(tmp_path / "cache"))
    spec = layer_spec("arm64", "3.12")
    built = build_layer(spec)
    assert built.unzipped_bytes < LAMBDA_UNZIPPED_LIMIT
    with zipfile.ZipFile(built.path) as zf:
        names = zf.namelist()
        assert "python/glacier/runtime/lambda_handler.py" in names
        assert not any("__pycache__" in n for n in names)
        # boto3/botocore come with the Lambda runtime: never packaged.
        assert not any(
            n.startswith(("python/boto3/", "python/botocore/", "python/s3transfer/")) for n in names
        )
        polars_so = [n for n in names if n.startswith("python/_polars_runtime") and n.endswith(".so")]
        core_so = [n for n in names if n.startswith("python/pydantic_core/") and n.endswith(".so")]
        assert polars_so and core_so
        assert any("cpython-312-aarch64" in n for n in core_so), core_so
        for name in (polars_so[0], core_so[0]):
            with zf.open(name) as f:
                assert _elf_machine(f.read(64)) == ELF_MACHINE_AARCH64, name
    digest = hashlib.sha256(built.path.read_bytes()).hexdigest()
    built.path.unlink()
    assert hashlib.sha256(build_layer(spec).path.read_bytes()).hexdigest() == digest
