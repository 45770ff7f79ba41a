"""Fused execution changes nothing a seed example computes: every example file of both seed
documents, run on the same sample sources with and without fusion, ends with the same task
outcomes and writes the same datasets (issue 11)."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from runtime_helpers import CUSTOMERS, PRODUCTS, SALES, assert_same

from glacier import load_pipelines
from glacier.config import LocalConfig
from glacier.dag.contract import CompiledPipeline
from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io import dataset_uri, scan_uri
from glacier.runner import run_pipeline

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SEED_FILES = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.glob("seed_00*/*.py"))
# One frame with every column the seed tasks use, as every source of every example.
PLACEHOLDERS_ONLY = {"seed_000/example2_multi_stage.py"}
SOURCE = SALES.join(CUSTOMERS, on="customer_id").join(PRODUCTS, on="product_id")


def _write_sources(pipelines: list[CompiledPipeline], storage: LocalConfig) -> None:
    for compiled in pipelines:
        produced = {task.output for task in compiled.dag.tasks}
        for dataset in compiled.dag.datasets:
            if dataset.id in produced:
                continue
            path = Path(dataset_uri(dataset, storage))
            path.parent.mkdir(parents=True, exist_ok=True)
            if dataset.format is Format.CSV:
                SOURCE.write_csv(path)
            elif dataset.format is Format.NDJSON:
                SOURCE.write_ndjson(path)
            elif dataset.format is Format.PARQUET_DIR:
                path.mkdir(exist_ok=True)
                SOURCE.write_parquet(path / "part-0.parquet")
            else:
                SOURCE.write_parquet(path)


def _run(example: str, base: Path, fuse: bool) -> tuple[dict[str, object], dict[str, pl.DataFrame]]:
    """Each pipeline's task outcomes (or the task its failure names) and what it wrote."""
    pipelines = list(load_pipelines(EXAMPLES / example).pipelines)
    storage = LocalConfig(base_path=str(base))
    _write_sources(pipelines, storage)
    outcomes: dict[str, object] = {}
    written: dict[str, pl.DataFrame] = {}
    for compiled in pipelines:
        try:
            result = run_pipeline(compiled, storage=storage, state_dir=base / "state", fuse=fuse)
            outcomes[compiled.name] = {name: run.status for name, run in result.tasks.items()}
        except ExecutionError as exc:  # the seeds' `...` placeholder tasks
            outcomes[compiled.name] = f"failed in {exc.task}"
        for task in compiled.dag.tasks:
            dataset = compiled.dag.dataset(task.output)
            uri = dataset_uri(dataset, storage)
            if Path(uri).exists():
                written[dataset.id] = scan_uri(uri, dataset.format).collect()
    return outcomes, written


@pytest.mark.parametrize("example", SEED_FILES)
def test_fused_seed_example_equals_the_unfused_run(example: str, tmp_path: Path, state_dir: Path) -> None:
    fused, fused_written = _run(example, tmp_path / "fused", fuse=True)
    plain, plain_written = _run(example, tmp_path / "unfused", fuse=False)
    assert fused == plain
    assert fused_written.keys() == plain_written.keys()
    for dataset_id, frame in plain_written.items():
        assert_same(fused_written[dataset_id], frame, by=frame.columns)
    # Not vacuous: only the example whose every task is a `...` placeholder writes nothing.
    assert bool(plain_written) is (example not in PLACEHOLDERS_ONLY)
