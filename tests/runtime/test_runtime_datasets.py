"""The dataset classes: one per format, what they tell IAM and the cost model, and S3 writes
and reads of a directory dataset that stay inside the task roles the deployment plans."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Provider, load_pipelines
from glacier.config import AwsConfig
from glacier.deploy import iam
from glacier.errors import GlacierError
from glacier.formats import Format
from glacier.io import open_dataset, scan_uri, storage_options, write_atomic
from glacier.io.datasets import (
    DATASETS,
    CsvDataset,
    IpcDataset,
    NdjsonDataset,
    ParquetDataset,
    ParquetDirectoryDataset,
    dataset_class,
    versions_s3,
)
from glacier.io.staging import STAGING_MARK
from tests.cloud.conftest import EnforcedIam

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ARNS = iam.Arns(partition="aws", region="us-east-1", account="123456789012")


def test_one_dataset_class_per_format() -> None:
    assert set(DATASETS) == set(Format)
    expected = {
        Format.PARQUET: (ParquetDataset, True, "parquet", False),
        Format.CSV: (CsvDataset, False, "csv", False),
        Format.NDJSON: (NdjsonDataset, False, "json", False),
        Format.IPC: (IpcDataset, True, None, False),
        Format.PARQUET_DIR: (ParquetDirectoryDataset, True, "parquet", True),
    }
    for fmt, (cls, counts, spark, directory) in expected.items():
        assert dataset_class(fmt) is cls and cls.format is fmt
        assert (cls.counts_rows, cls.spark_format, cls.is_directory) == (counts, spark, directory)
    assert iam.STAGING_MARK == STAGING_MARK  # one staging-name constant


def test_the_classes_give_the_keys_the_iam_policies_grant() -> None:
    datasets = {
        ds.id: ds
        for path in sorted(EXAMPLES.glob("**/*.py"))
        for compiled in load_pipelines(path).pipelines
        for ds in compiled.dag.datasets
    }
    assert any(ds.is_directory for ds in datasets.values())
    for ds in datasets.values():
        cls = dataset_class(ds.format)
        assert cls.object_pattern(ds.path) == iam._key_pattern(ds)
        if not ds.is_directory:
            assert cls.staging_pattern(ds.path) == iam._staging_pattern(ds)
        else:
            assert cls.staging_pattern(ds.path) is None  # stages under its own prefix


def test_describe_and_counting(tmp_path: Path) -> None:
    frame = pl.LazyFrame({"k": ["a", "b", "a"], "v": [1, 2, 3]})
    for name, fmt in (("x.parquet", Format.PARQUET), ("x.csv", Format.CSV), ("d/", Format.PARQUET_DIR)):
        dataset = open_dataset(str(tmp_path / name), fmt)
        assert not dataset.exists() and dataset.stat() is None
        rows = dataset.save(frame, partition_by=["k"])
        assert rows == (None if fmt is Format.CSV else 3) and dataset.count_rows() == rows
        assert dataset.exists() and dataset.load().collect().height == 3
        assert dataset.describe()["format"] == fmt.value and type(dataset).__name__ in repr(dataset)
    assert open_dataset(str(tmp_path / "d/"), Format.PARQUET_DIR).describe()["layout"] == "symlink"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _roles(bucket: str) -> tuple[Any, dict[str, Any]]:
    provider = Provider(config=AwsConfig(region="us-east-1"))
    ex = provider.local()

    @ex.task(name="split", partition_by=["k"])
    def split(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    @ex.task(name="report")
    def report(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    chain = (
        provider.bucket(bucket, "in/src.parquet")
        .transform(split)
        .to(provider.bucket(bucket, "out/parts/"))
        .transform(report)
        .to(provider.bucket(bucket, "out/report.csv"))
    )
    dag = chain.compile("roles").dag
    policies = {t.name: iam.task_policy(dag, t, ARNS, log_groups=["/aws/lambda/x"]) for t in dag.tasks}
    return dag, policies


def test_directory_publishes_and_reads_stay_inside_the_task_roles(
    moto_endpoint: str, s3_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request a publish, a collection and a read make is authorised by moto's IAM
    against the task's planned policy (authentication enforced); another task's credentials
    cannot publish there."""
    enforced = EnforcedIam(moto_endpoint)
    bucket = f"roles-{_free_port()}"
    s3_client.create_bucket(Bucket=bucket)
    _dag, policies = _roles(bucket)
    keys = {role: enforced.user(f"{bucket}-{role}", policy) for role, policy in policies.items()}
    parts, report = f"s3://{bucket}/out/parts/", f"s3://{bucket}/out/report.csv"

    def options_as(role: str) -> dict[str, str]:
        key_id, secret = keys[role]
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key_id)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secret)
        monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        return storage_options(AwsConfig(endpoint_url=moto_endpoint)) or {}

    def write_parts(v: int, options: dict[str, str]) -> None:
        frame = pl.LazyFrame({"k": [1, 2], "v": [v, v]})
        write_atomic(frame, parts, Format.PARQUET_DIR, options, partition_by=["k"])

    with enforced.enforced():
        split = options_as("split")
        for v in range(3):  # the first publish (plain), then versions behind the manifest
            write_parts(v, split)
        monkeypatch.setattr(versions_s3, "RETAIN_SUPERSEDED_SECONDS", 0.0)  # and collection
        write_parts(3, split)
        as_report = options_as("report")
        frame = scan_uri(parts, Format.PARQUET_DIR, as_report)
        assert open_dataset(parts, Format.PARQUET_DIR, as_report).stat() is not None
        write_atomic(frame, report, Format.CSV, as_report)
        with pytest.raises((GlacierError, PermissionError)):
            write_parts(9, as_report)  # the report task may not publish the split's output
    assert sorted(pl.read_csv(s3_client.get_object(Bucket=bucket, Key="out/report.csv")["Body"])["v"]) == [
        3,
        3,
    ]


def test_a_foreign_manifest_is_named_with_the_fix(
    moto_endpoint: str, fresh_bucket: str, s3_client: Any
) -> None:
    from glacier.errors import ExecutionError

    s3_client.put_object(Bucket=fresh_bucket, Key="parts/_glacier_manifest.json", Body=b'{"files": 3}')
    options = storage_options(AwsConfig(endpoint_url=moto_endpoint))
    with pytest.raises(ExecutionError) as caught:
        scan_uri(f"s3://{fresh_bucket}/parts/", Format.PARQUET_DIR, options)
    assert f"s3://{fresh_bucket}/parts/_glacier_manifest.json" in str(caught.value)
    assert caught.value.fix and caught.value.fix.startswith("delete it")


def test_pending_writes_sink_lazily_and_publish_only_when_asked(tmp_path: Path) -> None:
    from glacier.io import CancelToken, WriteCancelled

    frame = pl.LazyFrame({"k": [1, 2, 1], "v": [1, 2, 3]})
    single = open_dataset(str(tmp_path / "a.parquet"), Format.PARQUET).begin_write()
    parts = open_dataset(str(tmp_path / "b/"), Format.PARQUET_DIR).begin_write(["k"])
    with single, parts:
        sinks = [single.sink(frame, lazy=True), parts.sink(frame.filter(pl.col("k") == 1), lazy=True)]
        pl.collect_all([s for s in sinks if s is not None])  # one plan, two sinks
        assert not (tmp_path / "a.parquet").exists() and not (tmp_path / "b").exists()
        assert single.publish() == 3 and parts.publish() == 2
    assert pl.read_parquet(tmp_path / "a.parquet")["v"].to_list() == [1, 2, 3]
    assert sorted(scan_uri(str(tmp_path / "b/"), Format.PARQUET_DIR).collect()["v"]) == [1, 3]
    cancel = CancelToken()
    cancel.cancel()
    with pytest.raises(WriteCancelled):
        open_dataset(str(tmp_path / "a.parquet"), Format.PARQUET).save(
            pl.LazyFrame({"v": [9]}), cancel=cancel
        )
    assert pl.read_parquet(tmp_path / "a.parquet")["v"].to_list() == [1, 2, 3]
    assert not list(tmp_path.glob(".glacier-tmp-*"))
