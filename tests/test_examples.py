"""Every example of both seed documents builds, and its DAG has exactly the expected edges."""

from __future__ import annotations

import importlib.util
import itertools
import os
from pathlib import Path

import pytest

from glacier import Pipeline, load_pipelines
from glacier.dag import PipelineDAG
from glacier.errors import DefinitionError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def edges(dag: PipelineDAG) -> set[str]:
    """The DAG's edges as 'from -> to' (dataset ids and task names, prefixes dropped)."""
    return {f"{a.split(':', 1)[1]} -> {b.split(':', 1)[1]}" for a, b in dag.edges}


def chain(*nodes: str) -> set[str]:
    """Edges of a linear chain: dataset, task, dataset, task, dataset ..."""
    return {f"{a} -> {b}" for a, b in itertools.pairwise(nodes)}


def joined(sources: list[str], task: str, output: str) -> set[str]:
    return {f"{s} -> {task}" for s in sources} | {f"{task} -> {output}"}


D, L = "data", "data-lake"
EXPECTED: dict[str, dict[str, set[str]]] = {
    # ---- seed 000 (Pipeline factory) --------------------------------------------------------
    "seed_000/core_single_source.py": {
        "etl_pipeline": chain(
            f"{L}/raw/data.parquet",
            "clean",
            f"{L}/processed/cleaned.parquet",
            "aggregate",
            f"{L}/output/result.parquet",
        )
    },
    "seed_000/core_multi_source.py": {
        "sales_join": joined(
            [f"{D}/sales.parquet", f"{D}/customers.parquet"], "join_data", f"{D}/joined.parquet"
        )
        | chain(f"{D}/joined.parquet", "summarize", f"{D}/summary.parquet")
    },
    "seed_000/example1_simple_etl.py": {
        "simple_etl": chain(f"{D}/raw.parquet", "process", f"{D}/output.parquet")
    },
    "seed_000/example2_multi_stage.py": {
        "multi_stage_etl": chain(
            f"{D}/raw.parquet",
            "clean",
            f"{D}/cleaned.parquet",
            "aggregate",
            f"{D}/aggregated.parquet",
            "finalize",
            f"{D}/output.parquet",
        )
    },
    "seed_000/example3_join.py": {
        "join_step1": joined(
            [f"{D}/sales.parquet", f"{D}/customers.parquet"], "join_sales_customers", f"{D}/joined1.parquet"
        ),
        "join_step2": joined(
            [f"{D}/joined1.parquet", f"{D}/products.parquet"], "join_products", f"{D}/joined2.parquet"
        ),
        "summarize": chain(f"{D}/joined2.parquet", "summarize", f"{D}/output.parquet"),
    },
    "seed_000/principles.py": {
        "my_etl": chain(f"{D}/raw/data.parquet", "clean", f"{D}/output/my_etl.parquet"),
        "etl": chain(
            f"{D}/raw/events.parquet",
            "clean",
            f"{D}/intermediate.parquet",
            "aggregate",
            f"{D}/output/etl.parquet",
        ),
        "daily_etl": chain(f"{D}/raw/data.parquet", "process_data", f"{D}/output/daily.parquet"),
        "my_etl_summary": chain(
            f"{D}/raw/events.parquet",
            "task1",
            f"{D}/summary/intermediate.parquet",
            "task2",
            f"{D}/summary/output.parquet",
        ),
    },
    # ---- seed 001 (chainable storage) -------------------------------------------------------
    "seed_001/complete_example.py": {
        "etl_pipeline": chain(
            f"{L}/raw/data.parquet",
            "extract",
            f"{L}/intermediate/step1.parquet",
            "transform",
            f"{L}/output/result.parquet",
        )
    },
    "seed_001/multi_source.py": {
        "pipeline": joined(
            [f"{D}/sales.parquet", f"{D}/customers.parquet"], "join_data", f"{D}/joined.parquet"
        )
        | chain(f"{D}/joined.parquet", "aggregate", f"{D}/output.parquet")
    },
    "seed_001/definition_capture.py": {
        "etl_pipeline": chain(
            f"{L}/raw/data.parquet",
            "extract",
            f"{L}/intermediate/step1.parquet",
            "transform",
            f"{L}/output/result.parquet",
        )
    },
    "seed_001/why_chainable.py": {
        "etl": chain(
            f"{D}/raw.parquet", "extract", f"{D}/intermediate.parquet", "transform", f"{D}/output.parquet"
        )
    },
    "seed_001/principles.py": {
        "pipeline": chain(
            f"{D}/raw.parquet", "extract", f"{D}/intermediate.parquet", "transform", f"{D}/output.parquet"
        ),
        "multi": joined(
            [f"{D}/sales.parquet", f"{D}/customers.parquet"], "join_task", f"{D}/joined_output.parquet"
        ),
        "continued": joined(
            [f"{D}/sales.parquet", f"{D}/customers.parquet"], "join_task", f"{D}/joined.parquet"
        )
        | chain(f"{D}/joined.parquet", "aggregate", f"{D}/region_output.parquet"),
    },
    "seed_001/code_generation.py": {
        "my_pipeline": chain(f"{D}/raw.parquet", "process", f"{D}/output.parquet")
    },
    "seed_001/naming.py": {"my_etl": chain(f"{D}/raw.parquet", "process", f"{D}/output.parquet")},
    "seed_001/multi_source_named.py": {
        "sales_join": joined(
            [f"{D}/sales.parquet", f"{D}/customers.parquet"], "join_task", f"{D}/joined.parquet"
        )
    },
    "seed_001/to_pipeline.py": {"etl": chain(f"{D}/raw.parquet", "process", f"{D}/output.parquet")},
    "seed_001/pattern1_sequential.py": {
        "pipeline": chain(
            f"{D}/raw.parquet",
            "extract",
            f"{D}/int1.parquet",
            "transform",
            f"{D}/int2.parquet",
            "aggregate",
            f"{D}/output.parquet",
        )
    },
    "seed_001/pattern2_named.py": {
        "etl_pipeline": chain(
            f"{D}/raw.parquet", "extract", f"{D}/intermediate.parquet", "transform", f"{D}/output.parquet"
        )
    },
    "seed_001/pattern3_joins.py": {
        "output": joined(
            [f"{D}/joined.parquet", f"{D}/products.parquet"], "enrich_with_products", f"{D}/enriched.parquet"
        )
        | chain(f"{D}/enriched.parquet", "aggregate", f"{D}/output.parquet")
    },
    "seed_001/pattern4_reusable.py": {
        "full_pipeline": chain(
            f"{D}/raw.parquet", "clean_data", f"{D}/clean.parquet", "aggregate", f"{D}/output.parquet"
        )
    },
    "seed_001/pattern4_conditional.py": {
        "pipeline": chain(
            f"{D}/raw.parquet", "extract", f"{D}/intermediate.parquet", "full_process", f"{D}/output.parquet"
        )
    },
    "seed_001/pattern5_dynamic.py": {
        "pipeline": chain(
            f"{D}/raw.parquet",
            "task1",
            f"{D}/step1.parquet",
            "task2",
            f"{D}/step2.parquet",
            "task3",
            f"{D}/output.parquet",
        )
    },
    "seed_001/pattern6_interactive.py": {
        "pipeline": chain(f"{D}/raw.parquet", "extract", f"{D}/intermediate.parquet")
    },
    "seed_001/pattern7_partial.py": {
        "full_pipeline": chain(
            f"{D}/raw.parquet",
            "task1",
            f"{D}/int1.parquet",
            "task2",
            f"{D}/int2.parquet",
            "task3",
            f"{D}/output.parquet",
        )
    },
}


def test_every_example_file_is_covered() -> None:
    on_disk = {str(p.relative_to(EXAMPLES)) for p in EXAMPLES.glob("seed_00[01]/*.py")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_example_builds_with_expected_edges(example: str) -> None:
    module = load_pipelines(EXAMPLES / example)
    found = {p.name: edges(p.dag) for p in module.pipelines}
    assert found == EXPECTED[example]
    for pipeline in module.pipelines:
        assert set(pipeline.functions) == {t.name for t in pipeline.dag.tasks}
        for task in pipeline.dag.tasks:
            assert task.code_ref.startswith(f"{module.module_name}:")


def test_importing_examples_reads_and_writes_nothing(tmp_path: Path) -> None:
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        for example in EXPECTED:
            load_pipelines(EXAMPLES / example)
    finally:
        os.chdir(cwd)
    assert list(tmp_path.iterdir()) == []


def test_join_example_lists_pipelines_in_data_order() -> None:
    names = [p.name for p in load_pipelines(EXAMPLES / "seed_000/example3_join.py").pipelines]
    assert names == ["join_step1", "join_step2", "summarize"]


def test_executor_kinds_and_configs_reach_the_dag() -> None:
    (pipeline,) = load_pipelines(EXAMPLES / "seed_001/complete_example.py").pipelines
    extract, transform = pipeline.dag.task("extract"), pipeline.dag.task("transform")
    assert extract.executor.kind == "local"
    assert transform.executor.kind == "serverless"
    assert transform.executor.config.model_dump()["memory"] == 1024
    (joins,) = load_pipelines(EXAMPLES / "seed_001/multi_source.py").pipelines
    spark = joins.dag.task("join_data").executor
    assert spark.kind == "spark"
    assert spark.config.model_dump()["workers"] == 3


def test_seed_001_error_snippet_raises_a_clear_definition_error() -> None:
    """Seed 001 pattern 3's "ERROR!" snippet: one bucket fed to a two-parameter task."""
    module = _exec_module(EXAMPLES / "seed_001/pattern3_joins.py", "pattern3_error_check")
    with pytest.raises(DefinitionError) as caught:
        (
            Pipeline(sales_df=module.sales, customers_df=module.customers)
            .transform(module.join_sales_customers)
            .to(module.joined)
            .transform(module.enrich_with_products)  # ERROR! Single-source, but needs 2
        )
    message = str(caught.value)
    assert "enrich_with_products" in message
    assert "joined_df, products_df" in message
    assert "Fix: start a multi-source step: Pipeline(joined_df=..., products_df=...)" in message
    # The chainable-bucket spelling of the same mistake fails the same way.
    with pytest.raises(DefinitionError, match="enrich_with_products"):
        module.joined.transform(module.enrich_with_products)


def test_seed_001_first_join_of_pattern_3_still_builds() -> None:
    module = _exec_module(EXAMPLES / "seed_001/pattern3_joins.py", "pattern3_first_join")
    first = (
        Pipeline(sales_df=module.sales, customers_df=module.customers)
        .transform(module.join_sales_customers)
        .to(module.provider.bucket("data", "joined.parquet"))
    )
    assert edges(first.to_dag()) == joined(
        [f"{D}/sales.parquet", f"{D}/customers.parquet"], "join_sales_customers", f"{D}/joined.parquet"
    )


def _exec_module(path: Path, name: str):  # type: ignore[no-untyped-def]
    """Load a file the way both seeds' code generators do."""
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_000_code_generator_finds_pipeline_objects() -> None:
    module = _exec_module(EXAMPLES / "seed_000/example3_join.py", "pipelines")
    pipelines = []
    for name, obj in vars(module).items():
        if isinstance(obj, Pipeline):
            pipelines.append((name, obj))
    assert [(var, p.name) for var, p in pipelines] == [
        ("step1", "join_step1"),
        ("step2", "join_step2"),
        ("step3", "summarize"),
    ]
    for _, pipeline in pipelines:
        assert pipeline.to_dag().name == pipeline.name


@pytest.mark.parametrize(
    ("example", "expected"),
    [
        ("seed_001/code_generation.py", ["my_pipeline"]),
        ("seed_001/multi_source_named.py", ["join_pipeline"]),  # imports the Pipeline class too
        ("seed_001/to_pipeline.py", ["pipeline_bucket", "pipeline_obj"]),
        ("seed_001/pattern7_partial.py", ["full_pipeline", "partial", "continuation"]),
    ],
)
def test_seed_001_code_generator_finds_buckets_with_lineage(example: str, expected: list[str]) -> None:
    module = _exec_module(EXAMPLES / example, "pipelines")
    pipelines = []
    for name, obj in vars(module).items():
        if hasattr(obj, "_lineage") and obj._lineage:
            # This is a pipeline!
            pipelines.append((name, obj))
    assert [name for name, _ in pipelines] == expected
    for _, pipeline in pipelines:
        assert pipeline.to_dag().tasks


def test_seed_001_metadata_and_to_pipeline() -> None:
    naming = _exec_module(EXAMPLES / "seed_001/naming.py", "naming_check")
    assert naming.pipeline._metadata["name"] == "my_etl"
    assert naming.pipeline._metadata["description"] == "Daily ETL process"
    assert naming.default_name == "pipeline_output_parquet"
    to_pipeline = _exec_module(EXAMPLES / "seed_001/to_pipeline.py", "to_pipeline_check")
    assert type(to_pipeline.pipeline_bucket.to_pipeline()) is Pipeline
    assert type(to_pipeline.pipeline_obj) is Pipeline
    assert to_pipeline.pipeline_obj.to_dag() == to_pipeline.pipeline_bucket.to_dag()
    lineage = to_pipeline.pipeline_bucket._lineage
    assert [step.task.name for step in lineage] == ["process"]


def test_seed_001_named_pipeline_visualizes_as_mermaid() -> None:
    module = _exec_module(EXAMPLES / "seed_001/pattern2_named.py", "pattern2_check")
    text = module.pipeline.visualize()
    assert text.startswith("graph LR\n")
    assert "etl_pipeline: Extract, transform, load data" in text
    assert '[("data/raw.parquet")]' in text
    assert '["transform<br/>(serverless)"]' in text


def test_seed_001_principles_lineage_and_completed_chain() -> None:
    module = _exec_module(EXAMPLES / "seed_001/principles.py", "principles_check")
    assert module.lineage_steps == ["extract", "transform"]
    assert [step.target.id for step in module.completed._lineage] == ["data/intermediate.parquet"]
    assert module.continued.to_dag().topological_order() == ["join_task", "aggregate"]
