"""A whole read of a partitioned dataset sees each partition's current version only.

Each partition is published on its own (its own symlinked version locally, its own manifest
on S3), so a reader of the whole dataset must resolve every partition's current version:
never a superseded one, never a mix of two versions of one partition, never a partition
missing while it is republished."""

from __future__ import annotations

import datetime
import logging
import random
import threading
import time
from typing import Any

import polars as pl
import pytest

from glacier.config import AwsConfig
from glacier.formats import Format
from glacier.io import scan_uri, stat_uri, storage_options, write_atomic

DAYS = ["2026-11-01", "2026-11-02"]
ROWS = 20
MIN_READS = 1000


def _partition(day: str, version: int) -> pl.LazyFrame:
    """One partition's rows (the key column is in the path, not the files), two files."""
    return pl.LazyFrame(
        {"half": [i % 2 for i in range(ROWS)], "day": [day] * ROWS, "version": [version] * ROWS}
    )


def _publish(uri: str, day: str, version: int, options: dict[str, str] | None) -> None:
    write_atomic(
        _partition(day, version), f"{uri}date={day}/", Format.PARQUET_DIR, options, partition_by=["half"]
    )


def _check(df: pl.DataFrame) -> str | None:
    """What is wrong with one whole read, if anything."""
    if sorted(df["date"].cast(pl.String).unique().to_list()) != DAYS:
        return f"partitions {sorted(df['date'].cast(pl.String).unique().to_list())}"
    for (day,), rows in df.group_by("date"):
        if rows.height != ROWS or rows["version"].n_unique() != 1:
            return f"{day}: {rows.height} rows of versions {sorted(rows['version'].unique().to_list())}"
        if (rows["day"].cast(pl.String) != str(day)).any():
            return f"{day}: rows of another partition"
    return None


def _race(
    uri: str, options: dict[str, str] | None, *, readers: int, pause: float, deadline: float
) -> set[int]:
    for day in DAYS:
        _publish(uri, day, 0, options)
    _publish(uri, DAYS[0], 1, options)  # one partition republished before the race starts
    stop = threading.Event()
    lock = threading.Lock()
    bad: list[str] = []
    seen: set[int] = set()
    reads = [0]

    def writer() -> None:
        version = 2
        pick = random.Random(7)
        while not stop.is_set():
            _publish(uri, pick.choice(DAYS), version, options)
            version += 1
            time.sleep(pause)

    def reader() -> None:
        while not stop.is_set():
            try:
                df = scan_uri(uri, Format.PARQUET_DIR, options).collect()
                problem = _check(df)
            except Exception as exc:
                problem = repr(exc)
            with lock:
                reads[0] += 1
                if problem is not None:
                    bad.append(problem)
                else:
                    seen.update(df["version"].unique().to_list())
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
    assert not bad, f"{len(bad)} bad reads of {reads[0]}: {bad[:5]}"
    assert len(seen) > 5, f"the readers saw only versions {sorted(seen)}: the writer did not race them"
    return seen


def test_s3_whole_reads_see_each_partitions_current_version(moto_endpoint: str, fresh_bucket: str) -> None:
    options = storage_options(AwsConfig(endpoint_url=moto_endpoint))
    uri = f"s3://{fresh_bucket}/events/"
    _publish(uri, DAYS[0], 0, options)
    _publish(uri, DAYS[1], 0, options)
    _publish(uri, DAYS[0], 1, options)  # date=2026-11-01 now lives behind its manifest
    df = scan_uri(uri, Format.PARQUET_DIR, options).collect()
    assert df.group_by("date").agg(pl.col("version").max()).sort("date")["version"].to_list() == [1, 0]
    assert df.height == 2 * ROWS
    before = stat_uri(uri, Format.PARQUET_DIR, options)
    _publish(uri, DAYS[1], 1, options)
    after = stat_uri(uri, Format.PARQUET_DIR, options)
    assert (
        before is not None and after is not None and before.fingerprint != after.fingerprint
    )  # the cache sees it
    # The definition's own reader (Bucket.scan) goes through the same resolution.
    from glacier import Provider

    provider = Provider(config=AwsConfig(region="us-east-1", endpoint_url=moto_endpoint))
    events = provider.bucket(fresh_bucket, "events/", partition_by=["date"])
    scanned = events.scan("s3").collect()
    latest = scanned.group_by("date").agg(pl.col("version").n_unique(), pl.col("version").max().alias("v"))
    assert latest.sort("date").rows() == [
        (datetime.date(2026, 11, 1), 1, 1),
        (datetime.date(2026, 11, 2), 1, 1),
    ]


@pytest.fixture
def quiet_moto() -> Any:
    """The moto server's request log off: captured per request, it slows the race threefold."""
    server_log = logging.getLogger("werkzeug")
    level = server_log.level
    server_log.setLevel(logging.WARNING)
    yield
    server_log.setLevel(level)


def test_s3_whole_reads_race_partition_republishes(
    moto_endpoint: str, fresh_bucket: str, quiet_moto: None
) -> None:
    options = storage_options(AwsConfig(endpoint_url=moto_endpoint))
    # moto answers one request at a time: two partitions of two files and a paced writer keep the
    # 1,000 reads (a listing, a manifest, two files each) to a few minutes on a loaded machine.
    _race(f"s3://{fresh_bucket}/events/", options, readers=2, pause=0.3, deadline=500)


def test_local_whole_reads_race_partition_republishes(tmp_path: Any) -> None:
    _race(str(tmp_path / "lake" / "events") + "/", None, readers=3, pause=0.0, deadline=120)
