"""Athena reads a directory dataset's current version only: through the real Lambda handler
on moto's S3 and Glue, each publish rewrites the symlink manifests of the dataset's table (the
table the deployment declares, from ``table_spec``) to list exactly the current version's
files, and adds the partitions of a hive-partitioned output to the Glue table."""

from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path
from typing import Any

import boto3
import polars as pl
import pytest

from glacier.dag.schema import schema_from_declaration
from glacier.deploy.catalog import CatalogTableSpec, table_spec
from glacier.formats import Format
from glacier.io import aws_storage_options, scan_uri
from glacier.runtime import lambda_handler
from glacier.runtime.catalog import current_files
from glacier.runtime.event import CatalogTarget, DatasetLocation, TaskEvent
from glacier.runtime.lambda_handler import TaskFailedError

DATABASE = "glacier_shop"
COLUMNS = {"order_id": pl.Int64, "amount": pl.Float64, "region": pl.String}
TASK_MODULE = """
import polars as pl


def copy(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders
"""


def glue_table_input(spec: CatalogTableSpec) -> dict[str, Any]:
    """The Glue API's TableInput of what ``table_args`` declares with Pulumi."""
    assert spec.location is not None
    return {
        "Name": spec.name,
        "TableType": "EXTERNAL_TABLE",
        "Parameters": {"EXTERNAL": "TRUE", "classification": spec.storage.classification},
        "PartitionKeys": [{"Name": n, "Type": t} for n, t in spec.partition_keys],
        "StorageDescriptor": {
            "Location": spec.location,
            "InputFormat": spec.storage.input_format,
            "OutputFormat": spec.storage.output_format,
            "Columns": [{"Name": n, "Type": t} for n, t in spec.columns],
            "SerdeInfo": {"SerializationLibrary": spec.storage.serde},
        },
    }


@pytest.fixture
def glue(moto_endpoint: str) -> Any:
    client = boto3.client("glue", endpoint_url=moto_endpoint, region_name="us-east-1")
    with contextlib.suppress(client.exceptions.AlreadyExistsException):
        client.create_database(DatabaseInput={"Name": DATABASE})
    return client


@pytest.fixture
def handler(tmp_path: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    (tmp_path / "catalog_tasks.py").write_text(TASK_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    yield lambda_handler.handler
    sys.modules.pop("catalog_tasks", None)


def setup(
    s3_client: Any, glue: Any, bucket: str, regions: list[str], partition_by: list[str] | None
) -> tuple[dict[str, Any], CatalogTableSpec]:
    """The source orders, the output's table in Glue, and the event writing the output."""
    source = pl.DataFrame(
        {"order_id": list(range(len(regions))), "amount": [1.5] * len(regions), "region": regions}
    )
    buffer = io.BytesIO()
    source.write_parquet(buffer)
    s3_client.put_object(Bucket=bucket, Key="raw/orders.parquet", Body=buffer.getvalue())
    schema = schema_from_declaration(COLUMNS, dataset=f"{bucket}/marts/orders/")
    spec = table_spec(
        bucket=bucket,
        path="marts/orders/",
        fmt=Format.PARQUET_DIR,
        schema=schema.columns,
        partition_by=partition_by or (),
    )
    with contextlib.suppress(glue.exceptions.AlreadyExistsException):
        glue.create_table(DatabaseName=DATABASE, TableInput=glue_table_input(spec))
    event = TaskEvent(
        pipeline="shop",
        task="copy",
        code_ref="catalog_tasks:copy",
        inputs={"orders": DatasetLocation(uri=f"s3://{bucket}/raw/orders.parquet", format=Format.PARQUET)},
        output=DatasetLocation(
            uri=f"s3://{bucket}/marts/orders/",
            format=Format.PARQUET_DIR,
            partition_by=partition_by,
            catalog=CatalogTarget(database=DATABASE, table=spec.name),
        ),
        partition_by=partition_by,
    )
    return event.model_dump(mode="json", exclude_none=True), spec


def manifest(s3_client: Any, bucket: str, key: str) -> list[str]:
    return s3_client.get_object(Bucket=bucket, Key=key)["Body"].read().decode().splitlines()


def keys(s3_client: Any, bucket: str, prefix: str) -> list[str]:
    listed = s3_client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(o["Key"] for o in listed)


def test_an_unpartitioned_table_lists_only_the_current_version(
    s3_client: Any, fresh_bucket: str, glue: Any, handler: Any
) -> None:
    payload, spec = setup(s3_client, glue, fresh_bucket, ["emea", "apac"], None)
    options = aws_storage_options()
    output = f"s3://{fresh_bucket}/marts/orders/"
    symlink = "marts/orders/_glacier_symlink/manifest"
    table = glue.get_table(DatabaseName=DATABASE, Name=spec.name)["Table"]["StorageDescriptor"]
    assert table["Location"] == f"s3://{fresh_bucket}/marts/orders/_glacier_symlink/"
    for run in range(3):
        handler(payload, None)
        listed = manifest(s3_client, fresh_bucket, symlink)
        assert listed == sorted(current_files(output, options).values()), run
        # What Athena would read is exactly what Glacier's own reader reads.
        assert (
            pl.read_parquet(listed, storage_options=options)
            .sort("order_id")
            .equals(scan_uri(output, Format.PARQUET_DIR, options).collect().sort("order_id"))
        )
    data = [k for k in keys(s3_client, fresh_bucket, "marts/orders/") if k.endswith(".parquet")]
    assert len(data) > len(listed)  # superseded versions are still there; the table skips them
    assert all(".glacier-v-" in uri for uri in listed)
    # The symlink folder is hidden from Glacier's readers (it does not become data).
    assert scan_uri(output, Format.PARQUET_DIR, options).collect().height == 2


def test_a_partitioned_table_gets_its_partitions_and_drops_gone_ones(
    s3_client: Any, fresh_bucket: str, glue: Any, handler: Any
) -> None:
    payload, spec = setup(s3_client, glue, fresh_bucket, ["emea", "apac", "emea"], ["region"])
    handler(payload, None)
    folder = f"s3://{fresh_bucket}/marts/orders/_glacier_symlink/"
    partitions = glue.get_partitions(DatabaseName=DATABASE, TableName=spec.name)["Partitions"]
    located = {p["Values"][0]: p["StorageDescriptor"]["Location"] for p in partitions}
    assert located == {"apac": folder + "region=apac/", "emea": folder + "region=emea/"}
    (partition,) = [p for p in partitions if p["Values"] == ["emea"]]
    assert partition["StorageDescriptor"]["InputFormat"] == spec.storage.input_format
    emea = manifest(s3_client, fresh_bucket, "marts/orders/_glacier_symlink/region=emea/manifest")
    assert emea and all("/region=emea/" in uri for uri in emea)
    assert pl.read_parquet(emea, storage_options=aws_storage_options()).height == 2

    # The next run has no 'apac' and a new 'us': its manifest goes, 'us' is added.
    payload, _ = setup(s3_client, glue, fresh_bucket, ["emea", "us"], ["region"])
    handler(payload, None)
    assert keys(s3_client, fresh_bucket, "marts/orders/_glacier_symlink/") == [
        "marts/orders/_glacier_symlink/region=emea/manifest",
        "marts/orders/_glacier_symlink/region=us/manifest",
    ]
    partitions = glue.get_partitions(DatabaseName=DATABASE, TableName=spec.name)["Partitions"]
    assert sorted(p["Values"][0] for p in partitions) == ["apac", "emea", "us"]  # 'apac' reads empty
    emea = manifest(s3_client, fresh_bucket, "marts/orders/_glacier_symlink/region=emea/manifest")
    assert pl.read_parquet(emea, storage_options=aws_storage_options()).height == 1


def test_a_one_partition_run_updates_only_its_partition(
    s3_client: Any, fresh_bucket: str, glue: Any, handler: Any
) -> None:
    payload, spec = setup(s3_client, glue, fresh_bucket, ["emea", "emea"], ["region"])
    payload["partition"] = {"region": "emea"}
    payload["output"]["schema"] = {"columns": {"order_id": "Int64", "amount": "Float64", "region": "String"}}
    for _ in range(2):
        handler(payload, None)
    listed = manifest(s3_client, fresh_bucket, "marts/orders/_glacier_symlink/region=emea/manifest")
    current = current_files(f"s3://{fresh_bucket}/marts/orders/region=emea/", aws_storage_options())
    assert listed == sorted(current.values()) and all("/region=emea/.glacier-v-" in u for u in listed)
    (partition,) = glue.get_partitions(DatabaseName=DATABASE, TableName=spec.name)["Partitions"]
    assert partition["Values"] == ["emea"]
    assert partition["StorageDescriptor"]["Location"].endswith("/marts/orders/_glacier_symlink/region=emea/")


def test_a_table_that_cannot_be_updated_fails_the_task_naming_it(
    s3_client: Any, fresh_bucket: str, glue: Any, handler: Any
) -> None:
    payload, spec = setup(s3_client, glue, fresh_bucket, ["emea"], ["region"])
    glue.delete_table(DatabaseName=DATABASE, Name=spec.name)
    with pytest.raises(TaskFailedError) as info:
        handler(payload, None)
    message = str(info.value)
    assert (
        f"published 's3://{fresh_bucket}/marts/orders/', but its Athena table {DATABASE}.{spec.name}"
        in message
    )
    assert "EntityNotFoundException" in message and "glue:BatchCreatePartition" in message
