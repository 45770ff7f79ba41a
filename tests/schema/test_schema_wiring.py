"""Schema contracts end to end: ``schema=`` on ``provider.bucket`` reaches the typed DAG, is
checked by ``to_dag()`` / ``glacier validate`` / ``glacier plan`` with no data anywhere, is
enforced at run time (``glacier run`` and the Lambda handler on moto's S3), is printed by
``glacier schema`` / ``glacier graph``, and becomes Glue Data Catalog tables."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from glacier import Pipeline, Provider, load_pipelines
from glacier.cli import app
from glacier.config import LocalConfig
from glacier.dag import PipelineDAG
from glacier.dag.schema import SchemaContractError
from glacier.deploy.catalog import hive_type, table_name
from glacier.deploy.component import DeployOptions
from glacier.deploy.plan import plan
from glacier.errors import DefinitionError
from glacier.runtime import lambda_handler
from glacier.runtime.event import TaskEvent
from glacier.runtime.lambda_handler import TaskFailedError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE_DIR = REPO / "examples" / "schemas"
EXAMPLE = EXAMPLE_DIR / "pipelines.py"
SOURCE = EXAMPLE.read_text()
ORDERS = "shop-raw/orders.parquet"
CLEAN = "shop-clean/orders.parquet"
REPORT = "shop-marts/region_revenue.parquet"
runner = CliRunner()

sys.path.insert(0, str(EXAMPLE_DIR))
from generate import generate  # noqa: E402  (the example's own sample data)

sys.path.remove(str(EXAMPLE_DIR))
sys.modules.pop("generate", None)


def invoke(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(app, list(args))


def variant(tmp_path: Path, old: str, new: str, name: str = "variant.py") -> str:
    """The example with one edit, written to its own file."""
    assert old in SOURCE
    path = tmp_path / name
    path.write_text(SOURCE.replace(old, new))
    return str(path)


def error_line(result) -> str:  # type: ignore[no-untyped-def]
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


# -- before anything runs: no data anywhere -------------------------------------------------
def test_validate_passes_the_correct_multi_source_pipeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing under ./data: no data present anywhere
    result = invoke("validate", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "ok  region_revenue: 2 tasks, 4 datasets"
    assert list(tmp_path.iterdir()) == []


def test_validate_fails_for_a_misspelled_column_downstream(tmp_path: Path) -> None:
    bad = variant(tmp_path, 'on="customer_id"', 'on="customer_idd"')
    result = invoke("validate", bad)
    assert result.exit_code == 1
    line = error_line(result)
    assert "Task 'revenue_by_region' uses column 'customer_idd'" in line
    assert f"input 'orders' ('{CLEAN}', from task 'clean')" in line
    assert "use 'customer_id' (the closest existing column)" in line


def test_validate_fails_for_a_declared_output_dtype_the_task_does_not_produce(tmp_path: Path) -> None:
    bad = variant(tmp_path, '"orders": pl.UInt32', '"orders": pl.Int64')
    result = invoke("validate", bad)
    assert result.exit_code == 1
    line = error_line(result)
    assert f"Task 'revenue_by_region' does not produce the declared schema of '{REPORT}'" in line
    assert "column 'orders' is UInt32, declared Int64" in line
    assert "pl.col('orders').cast(pl.Int64)" in line


def test_plan_and_to_dag_check_the_same_contract(tmp_path: Path) -> None:
    bad = variant(tmp_path, 'on="customer_id"', 'on="customer_idd"')
    result = invoke("plan", bad)
    assert result.exit_code == 1
    assert "uses column 'customer_idd'" in error_line(result)
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    raw = provider.bucket("lake", "raw.parquet", schema={"a": pl.Int64})
    task = provider.local().task(name="typo")(lambda df: df.select("b"))
    with pytest.raises(SchemaContractError, match=r"Task 'typo' uses column 'b'.*it has: a \(Int64\)"):
        raw.transform(task).to(provider.bucket("lake", "out.parquet")).to_dag()


def test_graph_json_shows_the_derived_schema_of_the_undeclared_intermediate() -> None:
    result = invoke("graph", str(EXAMPLE), "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    nodes = {ds["id"]: ds for ds in doc["datasets"]}
    assert nodes[CLEAN]["schema"] == {
        "order_id": "Int64",
        "customer_id": "Int64",
        "amount": "Float64",
        "placed_at": "Datetime(time_unit='us', time_zone=None)",
        "day": "Date",
    }
    assert nodes[CLEAN]["schema_declared"] is False
    assert nodes[REPORT]["schema_declared"] is True and nodes[REPORT]["schema_mode"] == "freeze"
    # The JSON is the DAG itself: it reads back, and writes out byte for byte the same.
    dag = PipelineDAG.model_validate_json(result.stdout)
    assert dag.dataset(CLEAN).columns == nodes[CLEAN]["schema"]
    again = json.dumps(dag.model_dump(mode="json"), indent=2)
    assert again == result.stdout.strip()


def test_graph_columns_for_mermaid_and_dot() -> None:
    mermaid = invoke("graph", str(EXAMPLE), "--columns")
    assert mermaid.exit_code == 0, mermaid.output
    assert f'[("{CLEAN}<br/>order_id: Int64<br/>' in mermaid.stdout
    assert 'day: Date<br/>(derived)")]' in mermaid.stdout
    dot = invoke("graph", str(EXAMPLE), "-f", "dot", "--columns")
    assert dot.exit_code == 0, dot.output
    assert '"shop-raw/customers.csv\\ncustomer_id: Int64\\nregion: String"' in dot.stdout
    plain = invoke("graph", str(EXAMPLE))
    assert "Int64" not in plain.stdout  # columns only when asked for


def test_glacier_schema_prints_every_dataset_declared_or_derived() -> None:
    result = invoke("schema", str(EXAMPLE))
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert f"  {CLEAN}: from task 'clean'\n    order_id: Int64\n" in text
    assert f"  {REPORT}: declared, schema_mode='freeze'\n    region: String\n" in text


def test_glacier_schema_notes_what_cannot_be_derived(tmp_path: Path) -> None:
    undeclared = variant(tmp_path, '\n    schema={"customer_id": pl.Int64, "region": pl.String},', "")
    result = invoke("schema", undeclared)
    assert result.exit_code == 0, result.output
    assert "  shop-raw/customers.csv: unknown" in result.stdout
    assert "note: Source 'shop-raw/customers.csv' has no declared schema" in result.stdout
    # The task reading it is not called, so its output keeps (and is checked at run time by)
    # its declaration alone.
    assert f"  {REPORT}: declared, schema_mode='freeze'" in result.stdout


def test_glacier_schema_infer_prints_declarations_from_the_sources(tmp_path: Path) -> None:
    generate(tmp_path / "data", orders=20)
    result = invoke("schema", "infer", str(EXAMPLE), "--data-dir", str(tmp_path / "data"))
    assert result.exit_code == 0, result.output
    assert "orders = provider.bucket('shop-raw', 'orders.parquet', schema={" in result.stdout
    assert "    'placed_at': pl.Datetime(time_unit='us', time_zone=None)," in result.stdout
    namespace: dict[str, object] = {}
    pasted = result.stdout.split("orders = provider.bucket(", 1)[1].split("schema=", 1)[1].rsplit(")", 1)[0]
    exec(f"import polars as pl\nschema = {pasted}", namespace)  # what a user pastes is valid Python
    assert pl.Schema(namespace["schema"]) == pl.read_parquet_schema(tmp_path / "data" / ORDERS)
    one_file = invoke("schema", "infer", str(tmp_path / "data" / "shop-raw" / "customers.csv"))
    assert one_file.exit_code == 0 and "    'region': pl.String," in one_file.stdout
    missing = invoke("schema", "infer")
    assert missing.exit_code == 1 and "needs a PATH" in error_line(missing)
    typo = invoke("schema", "infer", str(tmp_path / "data" / "shop-raw" / "orderz.parquet"))
    assert typo.exit_code == 1 and "orderz.parquet' is neither a pipeline file nor" in error_line(typo)


# -- the DSL --------------------------------------------------------------------------------
def test_schema_is_a_declaration_not_config(tmp_path: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    bucket = provider.bucket("lake", "raw.parquet", schema=pl.Schema({"a": pl.Int64}), schema_mode="evolve")
    assert bucket.config == {} and bucket.schema is not None
    node = bucket.compile_dataset()
    assert node.columns == {"a": "Int64"} and node.schema_declared and node.schema_mode == "evolve"
    with pytest.raises(DefinitionError, match="schema_mode='evolve' but no schema="):
        provider.bucket("lake", "x.parquet", schema_mode="evolve")
    with pytest.raises(DefinitionError, match="declares column 'a' as 'nope'"):
        provider.bucket("lake", "x.parquet", schema={"a": "nope"})


def test_one_dataset_declared_twice_differently_is_a_definition_error(tmp_path: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    task = provider.local().task(name="merge")(lambda a, b: a)
    a = provider.bucket("lake", "raw.parquet", schema={"x": pl.Int64})
    b = provider.bucket("lake", "raw.parquet", schema={"x": pl.Float64})
    pipeline = Pipeline(a=a, b=b).transform(task).to(provider.bucket("lake", "out.parquet"))
    with pytest.raises(DefinitionError, match=r"'lake/raw.parquet' is declared twice.*column 'x' is Float64"):
        pipeline.to_dag()
    same = provider.bucket("lake", "raw.parquet", schema={"x": pl.Int64})
    dag = Pipeline(a=a, b=same).transform(task).to(provider.bucket("lake", "out.parquet")).to_dag()
    assert dag.dataset("lake/out.parquet").columns == {"x": "Int64"}


def test_pipelines_of_one_module_are_checked_together(tmp_path: Path) -> None:
    module = tmp_path / "two.py"
    module.write_text(
        "import polars as pl\n"
        "from glacier import Provider\n"
        "from glacier.config import LocalConfig\n"
        "provider = Provider(config=LocalConfig(base_path='./data'))\n"
        "ex = provider.local()\n"
        "raw = provider.bucket('lake', 'raw.parquet', schema={'a': pl.Int64})\n"
        "@ex.task()\n"
        "def double(df):\n"
        "    return df.with_columns(b=pl.col('a') * 2)\n"
        "@ex.task()\n"
        "def pick(df):\n"
        "    return df.select('b')\n"
        "first = raw.transform(double).to(provider.bucket('lake', 'mid.parquet')).with_name('first')\n"
        "second = provider.bucket('lake', 'mid.parquet').transform(pick)"
        ".to(provider.bucket('lake', 'out.parquet')).with_name('second')\n"
    )
    first, second = load_pipelines(module).pipelines
    assert first.dag.dataset("lake/mid.parquet").columns == {"a": "Int64", "b": "Int64"}
    # 'second' declares nothing: the schema 'first' gives its source is derived through it.
    assert second.dag.dataset("lake/mid.parquet").columns == {"a": "Int64", "b": "Int64"}
    assert second.dag.dataset("lake/out.parquet").columns == {"b": "Int64"}
    module.write_text(module.read_text().replace("df.select('b')", "df.select('c')"))
    result = invoke("validate", str(module))
    assert result.exit_code == 1
    assert "Task 'pick' uses column 'c'" in error_line(result)


# -- at run time ----------------------------------------------------------------------------
def _run(data: Path, state: Path):  # type: ignore[no-untyped-def]
    return invoke("run", str(EXAMPLE), "--data-dir", str(data), "--state-dir", str(state), "-q")


def test_a_run_writes_files_whose_schemas_equal_the_derived_ones(tmp_path: Path) -> None:
    generate(tmp_path / "data", orders=200)
    result = _run(tmp_path / "data", tmp_path / "state")
    assert result.exit_code == 0, result.output
    (compiled,) = load_pipelines(EXAMPLE).pipelines
    for ds in compiled.dag.datasets:
        written = pl.read_parquet_schema(tmp_path / "data" / ds.id) if ds.format.value == "parquet" else None
        if written is not None:
            assert {k: str(v) for k, v in written.items()} == ds.columns, ds.id


def test_a_source_that_breaks_its_declaration_fails_the_run_and_writes_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    generate(data, orders=50)
    orders = pl.read_parquet(data / ORDERS).with_columns(pl.col("amount").cast(pl.Float32))
    orders.write_parquet(data / ORDERS)
    result = invoke("run", str(EXAMPLE), "--data-dir", str(data), "--state-dir", str(tmp_path / "state"))
    assert result.exit_code == 1
    assert f"input 'orders' ('{data / ORDERS}') does not match its declared schema" in result.output
    assert "column 'amount' is Float32, declared Float64" in result.output
    assert "Traceback" not in result.output
    assert not (data / "shop-clean").exists() and not (data / "shop-marts").exists()


def test_the_lambda_handler_checks_the_declaration_on_s3(
    s3_client, fresh_bucket: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (compiled,) = load_pipelines(EXAMPLE).pipelines
    dag, clean = compiled.dag, compiled.dag.task("clean")
    event = TaskEvent.for_task(dag, clean, lambda ds: f"s3://{fresh_bucket}/{ds.id}")
    assert event.inputs["orders"].schema_ is not None and event.output.schema_ is None  # declared only
    payload = event.model_dump(mode="json", exclude_none=True)
    assert payload["inputs"]["orders"]["schema"]["columns"]["amount"] == "Float64"
    monkeypatch.syspath_prepend(str(EXAMPLE_DIR))
    monkeypatch.delitem(sys.modules, "pipelines", raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    frame = pl.DataFrame({"order_id": [1], "customer_id": [1], "amount": [2.5], "placed_at": [None]})
    good = frame.with_columns(pl.col("placed_at").cast(pl.Datetime("us")))
    buffer = io.BytesIO()
    good.with_columns(pl.col("customer_id").cast(pl.String)).write_parquet(buffer)
    s3_client.put_object(Bucket=fresh_bucket, Key=ORDERS, Body=buffer.getvalue())
    try:
        with pytest.raises(TaskFailedError, match=r"column 'customer_id' is String, declared Int64"):
            lambda_handler.handler(payload, None)
        keys = [o["Key"] for o in s3_client.list_objects_v2(Bucket=fresh_bucket).get("Contents", [])]
        assert keys == [ORDERS]  # nothing written
        buffer = io.BytesIO()
        good.write_parquet(buffer)
        s3_client.put_object(Bucket=fresh_bucket, Key=ORDERS, Body=buffer.getvalue())
        result = lambda_handler.handler(payload, None)
        assert result["task"] == "clean" and result["bytes"] > 0
    finally:
        sys.modules.pop("pipelines", None)


# -- on AWS ---------------------------------------------------------------------------------
def test_plan_declares_catalog_tables_whose_columns_equal_the_dag_schemas() -> None:
    (compiled,) = load_pipelines(EXAMPLE).pipelines
    result = plan(str(EXAMPLE), loader=load_pipelines, options=DeployOptions(build_layer=False))
    (database,) = result.by_type("aws:glue/catalogDatabase:CatalogDatabase")
    assert database.name == "data-catalog-database" and database.parent == "data-catalog"
    assert database.inputs["name"] == "glacier" and database.inputs["region"] == "us-east-1"
    tables = {r.inputs["name"]: r for r in result.by_type("aws:glue/catalogTable:CatalogTable")}
    assert len(tables) == len(compiled.dag.datasets) == 4
    for ds in compiled.dag.datasets:
        assert ds.columns is not None
        table = tables[table_name(ds.bucket, ds.path)]
        assert table.parent == "region_revenue"
        columns = [(c["name"], c["type"]) for c in table.inputs["storageDescriptor"]["columns"]]
        expected = [(n, hive_type(t, dataset=ds.id, column=n)) for n, t in ds.columns.items()]
        assert columns == expected, ds.id
    assert result.outputs["region_revenue"]["catalog_tables"][CLEAN] == "shop_clean_orders"
