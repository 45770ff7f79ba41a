"""Fixtures for the report tests: real local runs of the sales demo, a pipeline deployed on
moto's Step Functions interpreter (with the cloud tests' moto helpers), and a headless
Chromium."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from glacier import load_pipelines
from glacier.config import LocalConfig
from glacier.dag.contract import CompiledPipeline
from glacier.errors import ExecutionError
from glacier.runner import run_pipeline
from glacier.runner.result import RunResult

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SALES = REPO / "examples" / "sales" / "pipelines.py"

sys.path.insert(0, str(HERE))  # chromium.py
from chromium import CHROMIUM, Chromium  # noqa: E402


def _cloud_fixtures():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("glacier_cloud_fixtures", REPO / "tests/cloud/conftest.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_cloud = _cloud_fixtures()  # its moto helpers (MotoAws, _moto_config), one place for them


@pytest.fixture(scope="module")
def lake(moto_endpoint: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """The 'lake' pipeline deployed on moto's interpreter with two executions (run-1
    succeeds, run-2 fails in 'right'), once per module: the failing run waits out a Retry.
    Tests using it must not use tests/cloud's function-scoped `aws` fixture too: switching
    moto's interpreter off and on again clears its state machines."""
    from cloud_setup import deploy_lake, execute

    on = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    off = {"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": True}}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MOTO_PORT", moto_endpoint.rsplit(":", 1)[1])
        _cloud._moto_config(moto_endpoint, on)
        try:
            moto = _cloud.MotoAws(moto_endpoint)
            deployed = deploy_lake(moto, tmp_path_factory.mktemp("lake"))
            execute(moto, deployed, failing=False)
            execute(moto, deployed, failing=True)
            yield deployed
        finally:
            _cloud._moto_config(moto_endpoint, off)


@dataclass
class SalesRuns:
    """Three real runs of the sales demo: a full run, a rerun (enrich_orders from the cache),
    and a run whose source file is gone (enrich_orders fails, the rest is skipped)."""

    work: Path
    state: Path
    pipelines: tuple[CompiledPipeline, ...]
    results: list[RunResult]

    @property
    def dag(self):  # type: ignore[no-untyped-def]
        return self.pipelines[0].dag


@pytest.fixture(scope="module")
def sales(tmp_path_factory: pytest.TempPathFactory) -> SalesRuns:
    sys.path.insert(0, str(SALES.parent))
    try:
        from generate import generate
    finally:
        sys.path.remove(str(SALES.parent))
    work = tmp_path_factory.mktemp("sales")
    data, state = work / "data", work / ".glacier"
    generate(data)
    pipelines = load_pipelines(SALES).pipelines
    storage = LocalConfig(base_path=str(data))
    results = [run_pipeline(pipelines[0], storage=storage, state_dir=state) for _ in range(2)]
    (data / "sales-raw" / "products.ndjson").unlink()
    with pytest.raises(ExecutionError) as failed:
        run_pipeline(pipelines[0], storage=storage, state_dir=state)
    results.append(failed.value.result)  # type: ignore[attr-defined]
    return SalesRuns(work, state, pipelines, results)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Chromium]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: the browser tier needs Debian's chromium (`make chromium`).")
    with Chromium(profile=tmp_path / "chromium-profile") as chromium:
        yield chromium
