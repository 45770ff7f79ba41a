"""Fixtures for the schema tests: run history in a tmp folder; pulumi_aws's own deprecation
warnings silenced (the catalog test imports it)."""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws.*")


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run history goes to a tmp folder (never the repository's .glacier)."""
    folder = tmp_path / "state"
    monkeypatch.setenv("GLACIER_STATE_DIR", str(folder))
    return folder
