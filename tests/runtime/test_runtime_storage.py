"""Every format on local disk and on moto's S3 server; S3 and local runs write the same data;
a SIGKILLed run leaves no partial target."""

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
from runtime_helpers import CUSTOMERS, SALES, assert_same, write_sources

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, LocalConfig, StorageConfig
from glacier.dag.model import DatasetNode
from glacier.errors import ExecutionError
from glacier.formats import format_for_path
from glacier.io import scan_dataset, stat_uri, storage_options
from glacier.runner import run_pipeline

FORMATS = ["out.parquet", "out.csv", "out.ndjson", "out.jsonl", "out.arrow", "out.ipc", "out_dir/"]


def _pipeline(provider: Provider, bucket: str) -> Any:
    """sales + customers -> joined (parquet) -> out (one chain per output format)."""
    ex = provider.local()
    sales = provider.bucket(bucket, "in/sales.parquet")
    customers = provider.bucket(bucket, "in/customers.parquet")

    @ex.task()
    def join(sales_df: pl.LazyFrame, customers_df: pl.LazyFrame) -> pl.LazyFrame:
        return sales_df.join(customers_df, on="customer_id").drop("value")

    joined = Pipeline(name="formats", sales_df=sales, customers_df=customers).transform(join)
    head = joined.to(provider.bucket(bucket, "joined.parquet"))
    steps: dict[str, Any] = {}
    for path in FORMATS:

        @ex.task(name="write_" + path.replace(".", "_").strip("/"), partition_by=["region"])
        def write(df: pl.LazyFrame) -> pl.LazyFrame:
            return df.sort("order_id")

        steps[path] = head.transform(write).to(provider.bucket(bucket, path))
    return steps


def _expected() -> pl.DataFrame:
    return SALES.join(CUSTOMERS, on="customer_id").drop("value").sort("order_id")


def _read_all(storage: StorageConfig, bucket: str) -> dict[str, pl.DataFrame]:
    out = {}
    for path in FORMATS:
        node = DatasetNode(id=f"{bucket}/{path}", bucket=bucket, path=path, format=format_for_path(path))
        out[path] = scan_dataset(node, storage).collect().sort("order_id")
    return out


def _run_all(provider: Provider, bucket: str, storage: StorageConfig) -> dict[str, Any]:
    results = {}
    for i, chain in enumerate(_pipeline(provider, bucket).values()):
        results[f"s{i}"] = run_pipeline(chain.compile(f"formats_{i}"), storage=storage)
    return results


def test_every_format_local(tmp_path: Path, state_dir: Path) -> None:
    write_sources(tmp_path, "lake", {"in/sales.parquet": SALES, "in/customers.parquet": CUSTOMERS})
    storage = LocalConfig(base_path=str(tmp_path))
    _run_all(Provider(config=storage), "lake", storage)
    frames = _read_all(storage, "lake")
    expected = _expected()
    for path, frame in frames.items():
        assert_same(frame.select(expected.columns), expected, by=["order_id"])
        assert frame.columns and path
    assert sorted(p.name for p in (tmp_path / "lake/out_dir").iterdir()) == [
        "region=apac",
        "region=eu",
        "region=us",
    ]
    assert pl.read_csv(tmp_path / "lake/out.csv").height == expected.height
    assert pl.read_ndjson(tmp_path / "lake/out.jsonl").height == expected.height
    assert pl.read_ipc(tmp_path / "lake/out.arrow").height == expected.height
    # No staging files left anywhere.
    assert not [p for p in tmp_path.rglob(".glacier-tmp-*")]


def test_s3_runs_match_local_runs(
    tmp_path: Path, state_dir: Path, moto_endpoint: str, fresh_bucket: str, s3_client: Any
) -> None:
    local = LocalConfig(base_path=str(tmp_path))
    write_sources(tmp_path, fresh_bucket, {"in/sales.parquet": SALES, "in/customers.parquet": CUSTOMERS})
    for key in ("in/sales.parquet", "in/customers.parquet"):
        s3_client.upload_file(str(tmp_path / fresh_bucket / key), fresh_bucket, key)
    s3 = AwsConfig(region="us-east-1", endpoint_url=moto_endpoint)
    _run_all(Provider(config=local), fresh_bucket, local)
    results = _run_all(Provider(config=s3), fresh_bucket, "s3")  # type: ignore[arg-type]
    local_frames, s3_frames = _read_all(local, fresh_bucket), _read_all(s3, fresh_bucket)
    for path in FORMATS:
        assert_same(s3_frames[path], local_frames[path])
    keys = sorted(o["Key"] for o in s3_client.list_objects_v2(Bucket=fresh_bucket)["Contents"])
    assert [k for k in keys if k.startswith("out_dir/")] == [
        "out_dir/region=apac/00000000.parquet",
        "out_dir/region=eu/00000000.parquet",
        "out_dir/region=us/00000000.parquet",
    ]
    assert not [k for k in keys if ".glacier-tmp-" in k]
    size = s3_client.head_object(Bucket=fresh_bucket, Key="out.parquet")["ContentLength"]
    assert results["s0"]["write_out_parquet"].bytes == size


def test_s3_directory_rewrite_drops_stale_files_and_cache_sees_etags(
    state_dir: Path, moto_endpoint: str, fresh_bucket: str
) -> None:
    s3 = AwsConfig(region="us-east-1", endpoint_url=moto_endpoint)
    provider = Provider(config=s3)
    options = storage_options(s3)
    pl.LazyFrame(SALES).sink_parquet(f"s3://{fresh_bucket}/sales.parquet", storage_options=options)

    def build(key: str) -> Any:
        @provider.local().task(name="split", partition_by=key, cache=True)
        def split(df: pl.LazyFrame) -> pl.LazyFrame:
            return df.select("order_id", key)

        sales = provider.bucket(fresh_bucket, "sales.parquet")
        return sales.transform(split).to(provider.bucket(fresh_bucket, "parts/")).compile("split")

    assert run_pipeline(build("category"), storage="s3")["split"].status == "succeeded"
    assert run_pipeline(build("category"), storage="s3")["split"].status == "cached"
    run_pipeline(build("customer_id"), storage="s3")
    stored = stat_uri(f"s3://{fresh_bucket}/parts/", format_for_path("parts/"), options)
    assert stored is not None and stored.files == 5  # customer_id=1..5, no category=... left
    node = DatasetNode(id="x", bucket=fresh_bucket, path="parts/", format=format_for_path("parts/"))
    assert_same(scan_dataset(node, s3).collect(), SALES.select("order_id", "customer_id"), by=["order_id"])


def test_failed_s3_write_keeps_previous_object(
    state_dir: Path, moto_endpoint: str, fresh_bucket: str, s3_client: Any
) -> None:
    s3 = AwsConfig(region="us-east-1", endpoint_url=moto_endpoint)
    provider = Provider(config=s3)
    options = storage_options(s3)
    pl.LazyFrame(SALES).sink_parquet(f"s3://{fresh_bucket}/sales.parquet", storage_options=options)
    s3_client.put_object(Bucket=fresh_bucket, Key="out.parquet", Body=b"previous version")

    @provider.local().task()
    def bad(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.with_columns(pl.col("category").cast(pl.Int64, strict=True))

    sales = provider.bucket(fresh_bucket, "sales.parquet")
    out = sales.transform(bad).to(provider.bucket(fresh_bucket, "out.parquet"))
    with pytest.raises(ExecutionError, match="Task 'bad'"):
        out.run(storage="s3")
    assert s3_client.get_object(Bucket=fresh_bucket, Key="out.parquet")["Body"].read() == b"previous version"


_KILLED = """
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
    if len(calls) == 2:  # mid-stream: earlier batches are already in the file
        (base / "marker").touch()
        time.sleep(60)
    return s

@provider.local().task()
def rewrite(df):
    return df.with_columns(pl.col("x").map_batches(slow, return_dtype=pl.Int64, is_elementwise=True))

provider.bucket("lake", "in/").transform(rewrite).to(provider.bucket("lake", "out.parquet")).run()
"""


def test_sigkill_mid_write_leaves_previous_target(tmp_path: Path, state_dir: Path) -> None:
    for i in range(4):
        part = pl.DataFrame({"x": range(i * 1000, (i + 1) * 1000)})
        write_sources(tmp_path, "lake", {f"in/{i}.parquet": part})
    previous = pl.DataFrame({"x": [-1]})
    previous.write_parquet(tmp_path / "lake/out.parquet")
    script = tmp_path / "killed.py"
    script.write_text(textwrap.dedent(_KILLED))
    proc = subprocess.Popen([sys.executable, str(script), str(tmp_path)], env={**os.environ})
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "marker").exists():
            assert proc.poll() is None, "the run ended before it was killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        staged = list((tmp_path / "lake").glob(".glacier-tmp-*-out.parquet"))
        assert staged, "the write should be in progress"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert_same(pl.read_parquet(tmp_path / "lake/out.parquet"), previous)
    # The next write of that target removes the dead process's staging file.
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))

    @provider.local().task()
    def rewrite(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    provider.bucket("lake", "in/").transform(rewrite).to(provider.bucket("lake", "out.parquet")).run()
    assert pl.read_parquet(tmp_path / "lake/out.parquet").height == 4000
    assert not list((tmp_path / "lake").glob(".glacier-tmp-*"))


def test_s3_multipart_copy_above_copy_limit(
    moto_endpoint: str, fresh_bucket: str, s3_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from glacier.io import s3 as s3_module

    monkeypatch.setattr(s3_module, "_COPY_LIMIT", 1024)
    monkeypatch.setattr(s3_module, "_PART_SIZE", 5 * 1024 * 1024)
    body = os.urandom(11 * 1024 * 1024)
    s3_client.put_object(Bucket=fresh_bucket, Key="big.bin", Body=body)
    client = s3_module.S3Client(storage_options(AwsConfig(endpoint_url=moto_endpoint)))
    client.copy(fresh_bucket, "big.bin", "copy/big.bin")
    assert s3_client.get_object(Bucket=fresh_bucket, Key="copy/big.bin")["Body"].read() == body
    assert [o.key for o in client.list(fresh_bucket, "copy/")] == ["copy/big.bin"]
