"""Glue Data Catalog tables from dataset schemas: Hive types, SerDes per format, symlink
manifests for single files, partition keys for hive directories — and, under Pulumi's mocks
with the real pulumi_aws v7 classes, table columns equal to the DAG's derived schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import parliament
import polars as pl
import pulumi
import pulumi_aws as aws
import pytest
from parliament import analyze_policy_string

from glacier import load_pipelines
from glacier.dag.schema import DatasetSchema, schema_from_declaration
from glacier.deploy.catalog import (
    CatalogDeclaration,
    declare_database,
    declare_tables,
    hive_type,
    table_name,
    table_spec,
)
from glacier.deploy.component import DeployOptions
from glacier.deploy.plan import ACCOUNT, plan, run_under_mocks
from glacier.errors import DeploymentError
from glacier.formats import Format
from glacier.runtime.event import partition_columns
from glacier.schema.derive import derive_pipelines

REPO = Path(__file__).resolve().parents[2]
TABLE = "aws:glue/catalogTable:CatalogTable"


@pytest.mark.parametrize(
    ("dtype", "hive"),
    [
        (pl.Int64, "bigint"),
        (pl.Int32, "int"),
        (pl.Int16, "smallint"),
        (pl.Int8, "tinyint"),
        (pl.UInt32, "bigint"),
        (pl.Float64, "double"),
        (pl.Float32, "float"),
        (pl.String, "string"),
        (pl.Boolean, "boolean"),
        (pl.Date, "date"),
        (pl.Datetime("ms", "UTC"), "timestamp"),
        (pl.Decimal(12, 3), "decimal(12,3)"),
        (pl.List(pl.String), "array<string>"),
        (pl.Array(pl.Float64, 3), "array<double>"),
        (pl.Struct({"Id": pl.Int64, "tags": pl.List(pl.String)}), "struct<id:bigint,tags:array<string>>"),
        (pl.Categorical, "string"),
        (pl.Binary, "binary"),
    ],
)
def test_hive_types(dtype: Any, hive: str) -> None:
    name = schema_from_declaration({"c": dtype}, dataset="d").columns["c"]
    assert hive_type(name, dataset="d", column="c") == hive


def test_unsupported_dtype_names_dataset_and_column() -> None:
    with pytest.raises(DeploymentError, match=r"Dataset 'lake/x\.parquet' column 'wait' is Duration") as info:
        hive_type("Duration(time_unit='us')", dataset="lake/x.parquet", column="wait")
    assert "cast 'wait'" in str(info.value.fix)


def test_storage_per_format() -> None:
    schema = {"id": "Int64", "region": "String"}
    parquet = table_spec(bucket="lake", path="curated/orders.parquet", fmt=Format.PARQUET, schema=schema)
    assert parquet.name == "lake_curated_orders"
    assert parquet.storage.serde == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert parquet.storage.input_format == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
    assert parquet.location is None and parquet.manifest_body == "s3://lake/curated/orders.parquet\n"
    assert parquet.manifest_location("artifacts") == "s3://artifacts/glacier-catalog/lake_curated_orders/"

    csv = table_spec(bucket="lake", path="raw/orders.csv", fmt=Format.CSV, schema=schema)
    assert csv.storage.serde == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert dict(csv.storage.table_parameters) == {"skip.header.line.count": "1"}
    ndjson = table_spec(bucket="lake", path="raw/orders.ndjson", fmt=Format.NDJSON, schema=schema)
    assert ndjson.storage.serde == "org.openx.data.jsonserde.JsonSerDe"

    events = table_spec(
        bucket="lake", path="events/", fmt=Format.PARQUET_DIR, schema=schema, partition_by=["region"]
    )
    # Not the prefix, which holds every retained version: the manifests the runtime keeps.
    assert events.location == "s3://lake/events/_glacier_symlink/" and events.manifest_key is None
    assert events.storage.input_format == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
    assert events.storage.serde == "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
    assert events.columns == (("id", "bigint"),) and events.partition_keys == (("region", "string"),)
    with pytest.raises(DeploymentError, match="partitioned by day"):
        table_spec(bucket="lake", path="events/", fmt=Format.PARQUET_DIR, schema=schema, partition_by=["day"])
    with pytest.raises(DeploymentError, match="ipc, which Athena cannot read"):
        table_spec(bucket="lake", path="x.arrow", fmt=Format.IPC, schema=schema)
    with pytest.raises(DeploymentError, match="differ only in case"):
        table_spec(bucket="lake", path="x.parquet", fmt=Format.PARQUET, schema={"a": "Int64", "A": "Int64"})
    assert table_name("Sales-Reports", "product_ranking/") == "sales_reports_product_ranking"


SALES_SOURCES = {
    "sales-raw/orders.csv": {
        "order_id": pl.Int64,
        "customer_id": pl.Int64,
        "product_id": pl.Int64,
        "quantity": pl.Int64,
        "discount": pl.Float64,
        "status": pl.String,
        "order_ts": pl.String,
        "unit_price": pl.Float64,
    },
    "sales-raw/customers.parquet": {"customer_id": pl.Int64, "region": pl.String, "segment": pl.String},
    "sales-raw/products.ndjson": {"product_id": pl.Int64, "product_name": pl.String, "category": pl.String},
}


def test_catalog_tables_under_mocks_equal_the_dag_schemas() -> None:
    """With no data anywhere: the sales example's derived schemas become the tables' columns."""
    (sales,) = load_pipelines(REPO / "examples/sales/pipelines.py").pipelines
    declared = {k: schema_from_declaration(v, dataset=k) for k, v in SALES_SOURCES.items()}
    (derived,) = derive_pipelines([sales], {"sales": declared})
    assert derived.problems == [] and len(derived.schemas) == len(sales.dag.datasets)
    keys = {task.output: partition_columns(task) or [] for task in sales.dag.tasks}

    def program() -> dict[str, Any]:
        parent = pulumi.ComponentResource("glacier:test:Catalog", "sales")
        child = pulumi.ResourceOptions(parent=parent)
        database = declare_database("sales-catalog", "Glacier Demo", region="us-east-1", opts=child)
        manifests = aws.s3.Bucket("sales-artifacts", bucket="sales-artifacts", opts=child)
        specs = [
            table_spec(
                bucket=ds.bucket,
                path=ds.path,
                fmt=ds.format,
                schema=derived.schemas[ds.id].columns,
                partition_by=keys.get(ds.id, []),
            )
            for ds in sales.dag.datasets
        ]
        registry: dict[str, pulumi.Resource] = {}
        catalog = CatalogDeclaration(database, "us-east-1", {"project": "demo"})
        declare_tables(
            parent, "sales", specs, catalog=catalog, manifest_bucket=manifests.bucket, registry=registry
        )
        again = declare_tables(
            parent, "other", specs, catalog=catalog, manifest_bucket=manifests.bucket, registry=registry
        )
        assert again == {}  # shared datasets: declared once per program
        return {}

    result = run_under_mocks(program)
    (database,) = result.by_type("aws:glue/catalogDatabase:CatalogDatabase")
    assert database.inputs["name"] == "glacier_demo" and database.parent == "sales"
    tables = {r.inputs["name"]: r for r in result.by_type(TABLE)}
    assert len(tables) == len(sales.dag.datasets) == 7
    for ds in sales.dag.datasets:
        table = tables[table_name(ds.bucket, ds.path)]
        assert table.parent == "sales" and table.name.startswith("sales-table-")
        inputs = table.inputs
        assert inputs["databaseName"] == "glacier_demo" and inputs["tableType"] == "EXTERNAL_TABLE"
        descriptor = inputs["storageDescriptor"]
        partition = [(k["name"], k["type"]) for k in inputs.get("partitionKeys", [])]
        columns = [(c["name"], c["type"]) for c in descriptor["columns"]]
        schema: DatasetSchema = derived.schemas[ds.id]
        expected = [
            (name, hive_type(dtype, dataset=ds.id, column=name)) for name, dtype in schema.columns.items()
        ]
        assert sorted(columns + partition) == sorted(expected), ds.id
        assert [c for c, _ in columns + partition] == [c for c, _ in expected if c not in dict(partition)] + [
            c for c, _ in partition
        ]
        if ds.format is Format.PARQUET_DIR:
            assert descriptor["location"] == f"s3://{ds.bucket}/{ds.path}_glacier_symlink/"
        else:
            assert (
                descriptor["location"]
                == f"s3://sales-artifacts/glacier-catalog/{table_name(ds.bucket, ds.path)}/"
            )
    ranking = tables["sales_reports_product_ranking"]
    assert ranking.inputs["partitionKeys"] == [{"name": "category", "type": "string"}]
    summary = tables["sales_reports_executive_summary"].inputs["storageDescriptor"]
    assert summary["serDeInfo"]["serializationLibrary"] == "org.apache.hadoop.hive.serde2.OpenCSVSerde"
    assert ("orders", "bigint") in [(c["name"], c["type"]) for c in summary["columns"]]  # UInt32 widened
    manifests = {
        r.inputs["key"]: r.inputs["content"] for r in result.by_type("aws:s3/bucketObjectv2:BucketObjectv2")
    }
    assert manifests["glacier-catalog/sales_raw_orders/manifest"] == "s3://sales-raw/orders.csv\n"
    assert len(manifests) == 6  # every single-file dataset; the directory needs none


def test_a_partitioned_output_table_its_event_and_its_role_under_mocks() -> None:
    """The deployment of a partitioned directory output: its table is located at the
    manifests the runtime keeps, its task's event names the table, and its role may add
    partitions to that table only (parliament finds nothing)."""
    result = plan(
        str(REPO / "examples/operations/partitioned.py"),
        loader=load_pipelines,
        options=DeployOptions(build_layer=False),
    )
    tables = {r.inputs["name"]: r.inputs for r in result.by_type(TABLE)}
    daily = tables["ops_lake_daily_clicks"]
    assert daily["storageDescriptor"]["location"] == "s3://ops-lake/daily_clicks/_glacier_symlink/"
    assert daily["storageDescriptor"]["inputFormat"] == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
    assert daily["partitionKeys"] == [{"name": "date", "type": "date"}]

    # The pipeline's own machine (its backfill machine runs the same task states).
    machines = result.by_type("aws:sfn/stateMachine:StateMachine")
    (machine,) = [m for m in machines if not m.name.endswith("-backfill")]
    states = json.loads(machine.inputs["definition"])["States"]
    (state,) = [s for s in states.values() if s["Type"] == "Task" and "output" in s["Parameters"]["Payload"]]
    output = state["Parameters"]["Payload"]["output"]
    assert output["catalog"] == {"database": "glacier", "table": "ops_lake_daily_clicks"}
    assert "catalog" not in state["Parameters"]["Payload"]["inputs"]["clicks"]

    policies = [json.loads(r.inputs["policy"]) for r in result.by_type("aws:iam/rolePolicy:RolePolicy")]
    (task_policy,) = [p for p in policies if any(s["Sid"] == "WriteOutput" for s in p["Statement"])]
    (glue,) = [s for s in task_policy["Statement"] if s["Sid"] == "AddOutputPartitions"]
    base = f"arn:aws:glue:eu-west-1:{ACCOUNT}"
    assert glue["Action"] == ["glue:BatchCreatePartition", "glue:GetTable"]
    assert glue["Resource"] == [
        f"{base}:catalog",
        f"{base}:database/glacier",
        f"{base}:table/glacier/ops_lake_daily_clicks",
    ]
    findings = analyze_policy_string(json.dumps(task_policy)).findings
    rated = [parliament.enhance_finding(f) for f in findings]
    assert [f.issue for f in rated if f.severity in ("MEDIUM", "HIGH", "CRITICAL")] == []


def test_outputs_without_partitions_need_no_glue_permission() -> None:
    """A file's manifest is static; an unpartitioned directory's is an object under its own
    prefix, which its role already writes."""
    example = str(REPO / "examples/schemas/pipelines.py")
    result = plan(example, loader=load_pipelines, options=DeployOptions(build_layer=False))
    for resource in result.by_type("aws:iam/rolePolicy:RolePolicy"):
        assert "glue:" not in resource.inputs["policy"], resource.name
