"""The schemas derived before a run (on empty frames) equal those of the files a real run
writes: the sales example, every runnable seed example (000 and 001) and the TPC-H
pipelines, their sources declared from the generated files by ``infer_sources``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import polars as pl
import pytest

from glacier import load_pipelines
from glacier.config import LocalConfig
from glacier.dag.contract import CompiledPipeline
from glacier.dag.schema import DatasetSchema
from glacier.formats import Format
from glacier.io import dataset_uri
from glacier.runner import run_pipeline
from glacier.schema.derive import DerivedSchemas, derive_pipelines
from glacier.schema.infer import infer_sources, read_schema

REPO = Path(__file__).resolve().parents[2]
TEXT_FORMATS = (Format.CSV, Format.NDJSON)


def _import_file(folder: Path, name: str) -> ModuleType:
    """``folder/name.py`` itself, never another test's cached module of the same name (the
    sales and operations examples both have a ``generate``)."""
    spec = importlib.util.spec_from_file_location(f"_derived_{folder.name}_{name}", folder / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(folder))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(folder))
    return module


def declared_sources(
    pipelines: list[CompiledPipeline], storage: LocalConfig
) -> dict[str, dict[str, DatasetSchema]]:
    sources = {
        f.label: DatasetSchema(columns=f.columns)
        for f in infer_sources(pipelines, storage)
        if f.columns is not None
    }
    return {p.name: sources for p in pipelines}


def assert_derived_equals_written(
    pipelines: list[CompiledPipeline], derived: list[DerivedSchemas], storage: LocalConfig
) -> int:
    """Every written dataset's file schema equals its derived one (parquet: names, order and
    dtypes; csv/ndjson store no dtypes: names and order). Returns how many were compared."""
    compared = 0
    for compiled, result in zip(pipelines, derived, strict=True):
        assert result.problems == [], result.problems
        assert result.notes == [], result.notes
        for task in compiled.dag.tasks:
            dataset = compiled.dag.dataset(task.output)
            written = read_schema(dataset_uri(dataset, storage), dataset.format)
            expected = result.schemas[task.output].columns
            if dataset.format in TEXT_FORMATS:
                assert list(written) == list(expected), task.output
            else:
                assert list(written.items()) == list(expected.items()), task.output
            compared += 1
    return compared


def test_sales_example(tmp_path: Path, state_dir: Path) -> None:
    _import_file(REPO / "examples/sales", "generate").generate(tmp_path, orders=3_000)
    storage = LocalConfig(base_path=str(tmp_path))
    pipelines = list(load_pipelines(REPO / "examples/sales/pipelines.py").pipelines)
    derived = derive_pipelines(pipelines, declared_sources(pipelines, storage))
    key = "sales-curated/orders_enriched.parquet"
    enriched = next(result.schemas[key] for result in derived if key in result.schemas)
    assert not enriched.declared and enriched.columns["order_date"] == "Date"
    for compiled in pipelines:
        run_pipeline(compiled, storage=storage, state_dir=state_dir)
    assert assert_derived_equals_written(pipelines, derived, storage) == 4


@pytest.fixture(scope="module")
def tpch_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tpch")
    _import_file(REPO / "bench", "tpch_pipelines").generate(base, 0.01)
    return base


@pytest.mark.parametrize("module", ["tpch_pipelines.py", "tpch_multi.py"])
def test_tpch_pipelines(module: str, tpch_data: Path, state_dir: Path) -> None:
    storage = LocalConfig(base_path=str(tpch_data))
    sys.path.insert(0, str(REPO / "bench"))
    try:
        pipelines = list(load_pipelines(REPO / "bench" / module).pipelines)
    finally:
        sys.path.remove(str(REPO / "bench"))
    derived = derive_pipelines(pipelines, declared_sources(pipelines, storage))
    for compiled in pipelines:
        run_pipeline(compiled, storage=storage, state_dir=state_dir)
    assert assert_derived_equals_written(pipelines, derived, storage) == sum(
        len(p.dag.tasks) for p in pipelines
    )


# The seed 000 examples that run (example2's tasks are placeholders; seed 001 is below),
# their sources as tests/runtime/test_runtime_seed_examples.py writes them.
def _seed_frames() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    sys.path.insert(0, str(REPO / "tests/runtime"))
    try:
        from runtime_helpers import CUSTOMERS, PRODUCTS, SALES
    finally:
        sys.path.remove(str(REPO / "tests/runtime"))
    return SALES, CUSTOMERS, PRODUCTS


@pytest.mark.parametrize(
    ("example", "sources"),
    [
        ("core_single_source.py", {"data-lake/raw/data.parquet": "sales"}),
        ("core_multi_source.py", {"data/sales.parquet": "sales", "data/customers.parquet": "customers"}),
        ("example1_simple_etl.py", {"data/raw.parquet": "sales"}),
        (
            "example3_join.py",
            {
                "data/sales.parquet": "sales",
                "data/customers.parquet": "customers",
                "data/products.parquet": "products",
            },
        ),
    ],
)
def test_seed_examples(example: str, sources: dict[str, str], tmp_path: Path, state_dir: Path) -> None:
    sales, customers, products = _seed_frames()
    frames = {"sales": sales, "customers": customers, "products": products}
    for path, name in sources.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        frames[name].write_parquet(tmp_path / path)
    storage = LocalConfig(base_path=str(tmp_path))
    pipelines = list(load_pipelines(REPO / "examples/seed_000" / example).pipelines)
    derived = derive_pipelines(pipelines, declared_sources(pipelines, storage))
    for compiled in pipelines:
        run_pipeline(compiled, storage=storage, state_dir=state_dir)
    assert assert_derived_equals_written(pipelines, derived, storage) == sum(
        len(p.dag.tasks) for p in pipelines
    )


# Seed 001 has no sample data: its examples read one of these source shapes (the columns
# their tasks use), by file name.
SEED_001_SOURCES = {
    "raw.parquet": pl.DataFrame({"value": [1.5, None, 3.0, -2.0], "category": ["a", "b", "a", "b"]}),
    "data.parquet": pl.DataFrame({"value": [1.5, None, 3.0], "category": ["a", "b", "a"]}),
    "sales.parquet": pl.DataFrame(
        {"customer_id": [1, 2, 1], "product_id": [10, 11, 10], "revenue": [5.0, 7.5, 2.5]}
    ),
    "customers.parquet": pl.DataFrame({"customer_id": [1, 2], "region": ["eu", "us"]}),
    "products.parquet": pl.DataFrame({"product_id": [10, 11], "product_name": ["pen", "ink"]}),
}
# pattern3_joins keeps only its second join at module level: the first one's output is a source.
SEED_001_SOURCES["joined.parquet"] = SEED_001_SOURCES["sales.parquet"].join(
    SEED_001_SOURCES["customers.parquet"], on="customer_id", how="left"
)


@pytest.mark.parametrize(
    "example", sorted(p.name for p in (REPO / "examples/seed_001").glob("*.py")), ids=lambda n: n[:-3]
)
def test_seed_001_examples(example: str, tmp_path: Path, state_dir: Path) -> None:
    pipelines = list(load_pipelines(REPO / "examples/seed_001" / example).pipelines)
    written = {task.output for p in pipelines for task in p.dag.tasks}
    sources = {ds.id for p in pipelines for ds in p.dag.datasets if ds.id not in written}
    for source in sources:
        (tmp_path / source).parent.mkdir(parents=True, exist_ok=True)
        SEED_001_SOURCES[Path(source).name].write_parquet(tmp_path / source)
    storage = LocalConfig(base_path=str(tmp_path))
    derived = derive_pipelines(pipelines, declared_sources(pipelines, storage))
    for compiled in pipelines:
        run_pipeline(compiled, storage=storage, state_dir=state_dir)
    assert assert_derived_equals_written(pipelines, derived, storage) == len(written)
