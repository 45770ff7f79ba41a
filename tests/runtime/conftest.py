"""Fixtures for the runtime tests."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run history goes to a tmp folder (never the repository's .glacier)."""
    folder = tmp_path / "state"
    monkeypatch.setenv("GLACIER_STATE_DIR", str(folder))
    return folder
