"""Whole publishes of directory datasets: a reader never sees two versions mixed, locally
(versions behind a symlink) and on S3 (version roots named by a manifest); directories
written by earlier versions still read; superseded versions are collected."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier.config import AwsConfig
from glacier.formats import Format
from glacier.io import open_dataset, scan_uri, stat_uri, storage_options, write_atomic
from glacier.io.datasets import versions_local, versions_s3
from glacier.io.staging import MANIFEST_NAME
from glacier.runtime import glue_entry

PARTS, ROWS = 3, 20
MIN_READS = 1000


def _version(v: int, parts: int = PARTS) -> pl.LazyFrame:
    return pl.LazyFrame({"part": [i % parts for i in range(parts * ROWS)], "version": [v] * (parts * ROWS)})


def _race(
    uri: str, options: dict[str, str] | None, *, parts: int, readers: int, pause: float, deadline: float
) -> None:
    """One writer republishes ``uri`` (every row of version v says v) while readers scan it;
    every read must be exactly one version, whole."""
    write_atomic(_version(0, parts), uri, Format.PARQUET_DIR, options, partition_by=["part"])
    stop = threading.Event()
    lock = threading.Lock()
    torn: list[Any] = []
    errors: list[str] = []
    seen: set[int] = set()
    reads = [0]

    def writer() -> None:
        v = 1
        while not stop.is_set():
            write_atomic(_version(v, parts), uri, Format.PARQUET_DIR, options, partition_by=["part"])
            v += 1
            time.sleep(pause)

    def reader() -> None:
        while not stop.is_set():
            try:
                df = scan_uri(uri, Format.PARQUET_DIR, options).collect()
            except Exception as exc:
                with lock:
                    errors.append(repr(exc))
                continue
            versions = df["version"].unique().to_list()
            whole = df.height == parts * ROWS and len(versions) == 1 and df["part"].n_unique() == parts
            with lock:
                reads[0] += 1
                seen.update(versions)
                if not whole:
                    torn.append((df.height, sorted(versions)))
                if reads[0] >= MIN_READS:
                    stop.set()

    threads = [threading.Thread(target=writer)] + [threading.Thread(target=reader) for _ in range(readers)]
    for thread in threads:
        thread.start()
    stop.wait(deadline)
    stop.set()
    for thread in threads:
        thread.join()
    assert reads[0] >= MIN_READS, f"only {reads[0]} reads in {deadline} s"
    assert not errors, errors[:3]
    assert not torn, f"{len(torn)} torn reads of {reads[0]}: {torn[:5]}"
    assert len(seen) > 5, f"the readers saw only versions {sorted(seen)}: the writer did not race them"


def test_local_directory_readers_never_see_a_mix(tmp_path: Path) -> None:
    _race(str(tmp_path / "lake/events") + "/", None, parts=PARTS, readers=3, pause=0.0, deadline=120)
    link = tmp_path / "lake/events"
    assert link.is_symlink() and sorted(p.name for p in link.iterdir()) == ["part=0", "part=1", "part=2"]


def test_s3_directory_readers_never_see_a_mix(moto_endpoint: str, fresh_bucket: str) -> None:
    options = storage_options(AwsConfig(endpoint_url=moto_endpoint))
    # moto answers one request at a time: two files per version and a paced writer keep the
    # 1,000 reads (3 requests each: manifest, two files) to about half a minute.
    _race(f"s3://{fresh_bucket}/events/", options, parts=2, readers=2, pause=0.2, deadline=240)


def test_local_versions_are_collected_after_the_retention(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = str(tmp_path / "lake/out") + "/"
    versions = tmp_path / "lake/.glacier-v-out"
    for v in range(3):
        write_atomic(_version(v), uri, Format.PARQUET_DIR, partition_by=["part"])
    assert len(list(versions.iterdir())) == 3  # superseded moments ago: kept for readers
    monkeypatch.setattr(versions_local, "RETAIN_SUPERSEDED_SECONDS", 0.0)
    time.sleep(0.01)
    write_atomic(_version(3), uri, Format.PARQUET_DIR, partition_by=["part"])
    current = os.readlink(tmp_path / "lake/out")
    assert [p.name for p in versions.iterdir()] == [Path(current).name]
    assert scan_uri(uri, Format.PARQUET_DIR).collect()["version"].unique().to_list() == [3]
    assert not list((tmp_path / "lake").glob(".glacier-tmp-*"))


def test_a_directory_written_by_an_earlier_version_reads_and_is_replaced_whole(tmp_path: Path) -> None:
    legacy = tmp_path / "lake/out"
    _version(0).sink_parquet(pl.PartitionBy(str(legacy) + "/", key=["part"]), mkdir=True)
    (legacy / "_SUCCESS").touch()  # a Spark marker: hidden from readers
    uri = str(legacy) + "/"
    assert scan_uri(uri, Format.PARQUET_DIR).collect().height == PARTS * ROWS
    before = stat_uri(uri, Format.PARQUET_DIR)
    assert before is not None and before.files == PARTS
    write_atomic(_version(1), uri, Format.PARQUET_DIR, partition_by=["part"])
    assert legacy.is_symlink()
    assert scan_uri(uri, Format.PARQUET_DIR).collect()["version"].unique().to_list() == [1]
    kept = [p.name for p in (tmp_path / "lake/.glacier-v-out").iterdir()]
    assert len(kept) == 2 and any(name.startswith("legacy-") for name in kept)  # superseded, kept a while


def _keys(s3_client: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_s3_first_publish_is_plain_then_versions_behind_a_manifest(
    moto_endpoint: str, fresh_bucket: str, s3_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    options = storage_options(AwsConfig(endpoint_url=moto_endpoint))
    uri = f"s3://{fresh_bucket}/out/"
    write_atomic(_version(0), uri, Format.PARQUET_DIR, options, partition_by=["part"])
    # The first publish leaves the plain layout any tool reads, and nothing hidden.
    assert _keys(s3_client, fresh_bucket) == [f"out/part={p}/00000000.parquet" for p in range(PARTS)]
    write_atomic(_version(1), uri, Format.PARQUET_DIR, options, partition_by=["part"])
    manifest = json.loads(
        s3_client.get_object(Bucket=fresh_bucket, Key=f"out/{MANIFEST_NAME}")["Body"].read()
    )
    assert manifest["root"].startswith(".glacier-v-") and manifest["rows"] == PARTS * ROWS
    assert [s["root"] for s in manifest["superseded"]] == [""]  # the plain files, kept for readers
    assert {f["key"] for f in manifest["files"]} == {f"part={p}/00000000.parquet" for p in range(PARTS)}
    dataset = open_dataset(uri, Format.PARQUET_DIR, options)
    assert dataset.count_rows() == PARTS * ROWS
    assert dataset.load().collect()["version"].unique().to_list() == [1]
    stored = dataset.stat()
    assert stored is not None and stored.files == PARTS
    # Once the retention has passed, the next publish deletes what no reader may still use.
    monkeypatch.setattr(versions_s3, "RETAIN_SUPERSEDED_SECONDS", 0.0)
    write_atomic(_version(2), uri, Format.PARQUET_DIR, options, partition_by=["part"])
    current = json.loads(s3_client.get_object(Bucket=fresh_bucket, Key=f"out/{MANIFEST_NAME}")["Body"].read())
    roots = {key.split("/")[1] for key in _keys(s3_client, fresh_bucket) if key != f"out/{MANIFEST_NAME}"}
    assert roots == {current["root"].rstrip("/"), manifest["root"].rstrip("/")}  # current + just superseded
    assert dataset.load().collect()["version"].unique().to_list() == [2]


_READER = """
import polars as pl


def count_versions(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("version").agg(pl.len().alias("rows"))
"""


def test_the_glue_entry_reads_the_version_the_manifest_names(
    tmp_path: Path,
    moto_endpoint: str,
    fresh_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    options = storage_options(AwsConfig(endpoint_url=moto_endpoint))
    uri = f"s3://{fresh_bucket}/events/"
    for v in range(3):
        write_atomic(_version(v), uri, Format.PARQUET_DIR, options, partition_by=["part"])
    (tmp_path / "publish_reader.py").write_text(_READER)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)
    event = {
        "pipeline": "p",
        "task": "count_versions",
        "code_ref": "publish_reader:count_versions",
        "inputs": {"df": {"uri": uri, "format": "parquet_dir"}},
        "output": {"uri": f"s3://{fresh_bucket}/counts.parquet", "format": "parquet"},
    }
    result = glue_entry.main(["--glacier-event", json.dumps(event)])
    assert result["rows"] == 1 and json.loads(capsys.readouterr().out)["task"] == "count_versions"
    counts = scan_uri(f"s3://{fresh_bucket}/counts.parquet", Format.PARQUET, options).collect()
    assert counts.to_dicts() == [{"version": 2, "rows": PARTS * ROWS}]
    sys.modules.pop("publish_reader", None)
