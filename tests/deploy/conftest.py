"""Deployment tests: pulumi_aws warns about its own deprecated aliases when imported."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws.*")


@pytest.fixture(scope="session", autouse=True)
def _artifact_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Built artifacts (bundles, runtime zips) go to a temporary cache, not ~/.cache."""
    saved = os.environ.get("GLACIER_CACHE")
    os.environ["GLACIER_CACHE"] = str(tmp_path_factory.mktemp("glacier-cache"))
    yield
    if saved is None:
        os.environ.pop("GLACIER_CACHE", None)
    else:
        os.environ["GLACIER_CACHE"] = saved
