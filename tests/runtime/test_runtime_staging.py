"""Zero-row outputs a downstream task reads back, in every format, locally and on S3; and
the staging leftovers of killed writes removed by the next write, locally and on S3."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from runtime_helpers import SALES, write_sources

from glacier import Provider
from glacier.config import AwsConfig, LocalConfig, StorageConfig
from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io import scan_uri, storage_options, write_atomic
from glacier.io.staging import Writer, host_id, staging_entry, staging_folder, staging_name, version_name
from glacier.runner import run_pipeline

EMPTY_FORMATS = ["out.parquet", "out.arrow", "out.csv", "out_dir/"]
TYPED = {"order_id": pl.Int64, "category": pl.String, "amount": pl.Float64}


def _empty_then_downstream(provider: Provider, bucket: str, path: str) -> Any:
    ex = provider.local()

    @ex.task(name="nothing", partition_by=["category"])
    def nothing(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") < 0)

    @ex.task(name="downstream")
    def downstream(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select("order_id", "category", "amount").filter(pl.col("order_id").is_not_null())

    empty = provider.bucket(bucket, "in/sales.parquet").transform(nothing).to(provider.bucket(bucket, path))
    return empty.transform(downstream).to(provider.bucket(bucket, "down.parquet")).compile("zero_rows")


def _check_downstream(storage: StorageConfig, bucket: str, path: str, options: Any) -> None:
    base = storage.base_path if isinstance(storage, LocalConfig) else f"s3://{bucket}"
    prefix = f"{base}/{bucket}" if isinstance(storage, LocalConfig) else base
    down = scan_uri(f"{prefix}/down.parquet", Format.PARQUET, options).collect()
    assert down.height == 0 and down.columns == list(TYPED)
    if path != "out.csv":  # csv keeps the names; it stores no types
        assert dict(down.schema) == TYPED


@pytest.mark.parametrize("path", EMPTY_FORMATS)
def test_zero_row_output_is_read_back_by_the_next_task_local(
    path: str, tmp_path: Path, state_dir: Path
) -> None:
    write_sources(tmp_path, "lake", {"in/sales.parquet": SALES})
    storage = LocalConfig(base_path=str(tmp_path))
    result = run_pipeline(_empty_then_downstream(Provider(config=storage), "lake", path), storage=storage)
    assert result["nothing"].status == "succeeded" and result["downstream"].status == "succeeded"
    assert result["nothing"].rows in (0, None)
    _check_downstream(storage, "lake", path, None)


@pytest.mark.parametrize("path", EMPTY_FORMATS)
def test_zero_row_output_is_read_back_by_the_next_task_s3(
    path: str, state_dir: Path, moto_endpoint: str, fresh_bucket: str
) -> None:
    storage = AwsConfig(region="us-east-1", endpoint_url=moto_endpoint)
    options = storage_options(storage)
    pl.LazyFrame(SALES).sink_parquet(f"s3://{fresh_bucket}/in/sales.parquet", storage_options=options)
    result = run_pipeline(_empty_then_downstream(Provider(config=storage), fresh_bucket, path), storage="s3")
    assert result["downstream"].status == "succeeded"
    _check_downstream(storage, fresh_bucket, path, options)


def test_zero_row_ndjson_is_refused_and_the_previous_output_stays(tmp_path: Path, state_dir: Path) -> None:
    write_sources(tmp_path, "lake", {"in/sales.parquet": SALES})
    previous = '{"order_id":1}\n'
    (tmp_path / "lake/out.jsonl").write_text(previous)
    storage = LocalConfig(base_path=str(tmp_path))
    compiled = _empty_then_downstream(Provider(config=storage), "lake", "out.jsonl")
    with pytest.raises(ExecutionError) as caught:
        run_pipeline(compiled, storage=storage)
    message = str(caught.value)
    assert "Task 'nothing'" in message and "has no rows" in message and ".ndjson/.jsonl" in message
    assert "Fix:" in message and ".parquet" in message
    assert (tmp_path / "lake/out.jsonl").read_text() == previous
    assert not list((tmp_path / "lake").glob(".glacier-tmp-*"))


_KILLED_LOCAL = """
import sys, time
from pathlib import Path
import polars as pl
from glacier import Provider
from glacier.config import LocalConfig

base = Path(sys.argv[1])
provider = Provider(config=LocalConfig(base_path=str(base)))
calls = []

def slow(s: pl.Series) -> pl.Series:
    calls.append(1)
    if len(calls) == 2:  # mid-stream: earlier batches are already staged
        (base / "marker").touch()
        time.sleep(60)
    return s

@provider.local().task(partition_by=["k"])
def rewrite(df):
    return df.with_columns(pl.col("x").map_batches(slow, return_dtype=pl.Int64, is_elementwise=True))

provider.bucket("lake", "in/").transform(rewrite).to(provider.bucket("lake", "out/")).run()
"""


def test_sigkill_mid_directory_write_keeps_the_version_and_next_run_cleans(
    tmp_path: Path, state_dir: Path
) -> None:
    for i in range(4):
        part = pl.DataFrame({"x": range(i * 1000, (i + 1) * 1000), "k": [i % 2] * 1000})
        write_sources(tmp_path, "lake", {f"in/{i}.parquet": part})
    uri = str(tmp_path / "lake/out") + "/"
    write_atomic(pl.LazyFrame({"x": [-1], "k": [0]}), uri, Format.PARQUET_DIR, partition_by=["k"])
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(_KILLED_LOCAL))
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env={**os.environ})
    try:
        deadline = time.monotonic() + 60
        while not (tmp_path / "marker").exists():
            assert proc.poll() is None, "the run ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert list((tmp_path / "lake").glob(".glacier-tmp-*-out")), "the write should be staged"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert scan_uri(uri, Format.PARQUET_DIR).collect()["x"].to_list() == [-1]  # the version before
    write_atomic(pl.LazyFrame({"x": [7], "k": [1]}), uri, Format.PARQUET_DIR, partition_by=["k"])
    assert scan_uri(uri, Format.PARQUET_DIR).collect()["x"].to_list() == [7]
    assert not list((tmp_path / "lake").glob(".glacier-tmp-*"))


_KILLED_S3 = """
import os, signal, sys
import polars as pl
from glacier.config import AwsConfig
from glacier.formats import Format
from glacier.io import open_dataset, storage_options
from glacier.io.datasets.filestage import open_stage

uri, endpoint = sys.argv[1:3]
options = storage_options(AwsConfig(endpoint_url=endpoint))
frame = pl.LazyFrame({"x": [1, 2, 3]})
if uri.endswith("/"):
    stage = open_dataset(uri, Format.PARQUET_DIR, options).versions.begin()
    frame.sink_parquet(pl.PartitionBy(stage.target, key=["x"]), storage_options=options)
else:
    stage = open_stage(uri, options)
    frame.sink_parquet(stage.target, storage_options=options)
print(stage.target, flush=True)
os.kill(os.getpid(), signal.SIGKILL)  # staged completely, never published
"""


def _killed_s3_write(tmp_path: Path, uri: str, endpoint: str) -> str:
    script = tmp_path / "killed_s3.py"
    script.write_text(textwrap.dedent(_KILLED_S3))
    proc = subprocess.run(
        [sys.executable, str(script), uri, endpoint], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return proc.stdout.strip()


def _keys(s3_client: Any, bucket: str) -> list[str]:
    pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_s3_leftovers_of_killed_writes_are_removed_by_the_next_write(
    tmp_path: Path, moto_endpoint: str, fresh_bucket: str, s3_client: Any
) -> None:
    options = storage_options(AwsConfig(endpoint_url=moto_endpoint))
    file_uri, dir_uri = f"s3://{fresh_bucket}/out/result.parquet", f"s3://{fresh_bucket}/events/"
    killed = [_killed_s3_write(tmp_path, uri, moto_endpoint) for uri in (file_uri, dir_uri)]
    # Staged by writers that may still run: this process, and another machine, recently.
    live = Writer.current()
    elsewhere = Writer(int(time.time()) - 60, "0ther000", 1, "abcd0123")
    long_ago = Writer(int(time.time()) - 3 * 24 * 3600, "0ther000", 1, "abcd0123")
    folder = f"out/{staging_folder('result.parquet')}"
    for writer in (live, elsewhere, long_ago):
        s3_client.put_object(Bucket=fresh_bucket, Key=f"{folder}/{staging_entry('result.parquet', writer)}")
        s3_client.put_object(Bucket=fresh_bucket, Key=f"events/{version_name(writer)}/x=1/0.parquet")
    keys = _keys(s3_client, fresh_bucket)
    for target in killed:
        assert any(target.removeprefix(f"s3://{fresh_bucket}/") in key for key in keys), (target, keys)

    frame = pl.LazyFrame({"x": [4, 5]})
    write_atomic(frame, file_uri, Format.PARQUET, options)
    write_atomic(frame, dir_uri, Format.PARQUET_DIR, options, partition_by=["x"])
    write_atomic(frame, dir_uri, Format.PARQUET_DIR, options, partition_by=["x"])  # a versioned publish

    keys = _keys(s3_client, fresh_bucket)
    hidden = {k for k in keys if ".glacier-tmp-" in k or ".glacier-v-" in k}
    for target in killed:
        assert not any(target.removeprefix(f"s3://{fresh_bucket}/") in key for key in hidden)
    assert not any(long_ago.tag in key for key in hidden)
    for writer in (live, elsewhere):  # kept: each staged file and version root
        assert sum(writer.tag in key for key in hidden) == 2, (writer, hidden)
    assert scan_uri(file_uri, Format.PARQUET, options).collect()["x"].to_list() == [4, 5]
    assert sorted(scan_uri(dir_uri, Format.PARQUET_DIR, options).collect()["x"].to_list()) == [4, 5]


def test_local_staging_of_a_dead_process_is_removed_and_a_live_one_kept(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lake = tmp_path / "lake"
    lake.mkdir()
    gone = Writer(int(time.time()), host_id(), dead.pid, "deadbeef")
    running = Writer.current()
    for writer in (gone, running):
        (lake / staging_name("out.parquet", writer)).write_bytes(b"partial")
    (lake / staging_name("x-out.parquet", gone)).write_bytes(b"another dataset's")
    write_atomic(pl.LazyFrame({"x": [1]}), str(lake / "out.parquet"), Format.PARQUET)
    assert sorted(p.name for p in lake.glob(".glacier-tmp-*")) == sorted(
        [staging_name("out.parquet", running), staging_name("x-out.parquet", gone)]
    )
    assert Writer.parse(gone.tag) == gone and gone.abandoned() and not running.abandoned()


def test_staging_left_by_an_earlier_version_is_judged_by_its_process(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    lake = tmp_path / "lake"
    (lake / f".glacier-tmp-{dead.pid}-a1b2c3d4-out").mkdir(parents=True)  # an earlier layout
    (lake / f".glacier-tmp-{os.getpid()}-a1b2c3d4-out.parquet").write_bytes(b"still running")
    write_atomic(pl.LazyFrame({"x": [1]}), str(lake / "out") + "/", Format.PARQUET_DIR)
    write_atomic(pl.LazyFrame({"x": [1]}), str(lake / "out.parquet"), Format.PARQUET)
    assert [p.name for p in lake.glob(".glacier-tmp-*")] == [
        f".glacier-tmp-{os.getpid()}-a1b2c3d4-out.parquet"
    ]
