"""The two halves of the cache key on their own: the code fingerprint (what a task can
reach) and the content identity of stored datasets (local memo, S3 ETag and VersionId)."""

from __future__ import annotations

import collections
import dataclasses
import datetime
import functools
import threading
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import polars as pl
import pydantic
import pytest
from polars import col

from glacier.formats import Format
from glacier.io import content_id, stat_uri
from glacier.io.content_id import ContentIds
from glacier.runner import code_fingerprint as cf
from glacier.runner.code_fingerprint import UnstableValue, code_fingerprint

# -- code fingerprint -----------------------------------------------------------------------------

CYCLE: list[Any] = [1]
CYCLE.append(CYCLE)
SETTINGS: dict[str, Any] = {"limit": 2.0}


def ping(n: int) -> int:
    return pong(n - 1) if n else 0


def pong(n: int) -> int:
    return ping(n - 1) + len(CYCLE) if n else 0


def uses_cycles(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.head(ping(3))


def test_cycles_in_code_and_data_are_walked_once() -> None:
    first = code_fingerprint(uses_cycles)
    assert first == code_fingerprint(uses_cycles)
    CYCLE.insert(0, 0)
    try:
        assert code_fingerprint(uses_cycles) != first
    finally:
        CYCLE.pop(0)
    assert code_fingerprint(uses_cycles) == first


def reads_settings(df: pl.LazyFrame, limit: float = 1.0) -> pl.LazyFrame:
    return df.filter(pl.col("a") > SETTINGS["limit"] + limit)


def test_defaults_and_globals_are_read_on_every_call() -> None:
    first = code_fingerprint(reads_settings)
    SETTINGS["limit"] = 3.0
    try:
        assert code_fingerprint(reads_settings) != first
    finally:
        SETTINGS["limit"] = 2.0
    defaults = reads_settings.__defaults__
    reads_settings.__defaults__ = (5.0,)
    try:
        assert code_fingerprint(reads_settings) != first
    finally:
        reads_settings.__defaults__ = defaults
    assert code_fingerprint(reads_settings) == first


def test_a_library_counts_by_its_version(monkeypatch: pytest.MonkeyPatch) -> None:
    first = code_fingerprint(reads_settings)
    real = cf.library_identity
    monkeypatch.setattr(
        cf, "library_identity", lambda name: "polars==0.0.1" if name == "polars" else real(name)
    )
    assert code_fingerprint(reads_settings) != first


@dataclasses.dataclass
class Threshold:
    value: float = 2.0


THRESHOLD = Threshold()
PARTIAL = functools.partial(max, 1.5)


def reads_objects(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.filter(pl.col("a") > PARTIAL(THRESHOLD.value))


def test_instances_and_partials_by_their_content() -> None:
    first = code_fingerprint(reads_objects)
    THRESHOLD.value = 4.0
    try:
        assert code_fingerprint(reads_objects) != first
    finally:
        THRESHOLD.value = 2.0
    assert code_fingerprint(reads_objects) == first


class Worker(threading.Thread):
    limit = 2


WORKER = Worker()
LAZY = pl.LazyFrame({"a": [1]})


def reads_worker(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.head(WORKER.limit)


def reads_lazy(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.join(LAZY, on="a")


def test_values_without_stable_content_are_refused() -> None:
    with pytest.raises(UnstableValue, match=r"global 'WORKER'.*threading.Thread"):
        code_fingerprint(reads_worker)
    with pytest.raises(UnstableValue, match=r"global 'LAZY'.*LazyFrame"):
        code_fingerprint(reads_lazy)
    with pytest.warns(cf.CacheDisabledWarning, match="Task 'joiner'"):
        assert cf.task_fingerprint(reads_lazy, "joiner") is None


# -- content identity -----------------------------------------------------------------------------


def _counting_digests(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    monkeypatch.setattr(content_id, "MEMO_MIN_BYTES", 0)  # the test files are small
    reads: list[Path] = []
    real = content_id.file_digest

    def counted(path: Path) -> str:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(content_id, "file_digest", counted)
    return reads


def _identify(state: Path, path: Path) -> str:
    stored = stat_uri(str(path), Format.PARQUET)
    assert stored is not None
    return ContentIds(state).identify(str(path), Format.PARQUET, stored)


def test_unchanged_file_is_read_once_then_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(content_id, "RACY_WINDOW_NS", 0)
    reads = _counting_digests(monkeypatch)
    data = tmp_path / "d.parquet"
    pl.DataFrame({"a": [1, 2, 3]}).write_parquet(data)
    first = _identify(tmp_path / "state", data)
    assert _identify(tmp_path / "state", data) == first  # a new run: from the memo
    assert len(reads) == 1
    assert (tmp_path / "state" / content_id.MEMO_FILE).is_file()


def test_recently_changed_file_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _counting_digests(monkeypatch)
    data = tmp_path / "d.parquet"
    pl.DataFrame({"a": [1, 2, 3]}).write_parquet(data)
    ids = ContentIds(tmp_path / "state")
    stored = stat_uri(str(data), Format.PARQUET)
    assert stored is not None
    assert ids.identify(str(data), Format.PARQUET, stored) == ids.identify(str(data), Format.PARQUET, stored)
    assert len(reads) == 1  # within one run: hashed once
    _identify(tmp_path / "state", data)
    assert len(reads) == 2  # the memo entry is too close to the write to be trusted


def test_a_corrupt_memo_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    reads = _counting_digests(monkeypatch)
    state = tmp_path / "state"
    state.mkdir()
    (state / content_id.MEMO_FILE).write_bytes(b"not a database" * 100)
    data = tmp_path / "d.parquet"
    pl.DataFrame({"a": [1]}).write_parquet(data)
    assert _identify(state, data) == _identify(state, data)
    assert len(reads) == 2


def test_s3_identity_uses_etag_and_version_id(moto_endpoint: str, s3_client: Any, fresh_bucket: str) -> None:
    from glacier.config import AwsConfig
    from glacier.io import storage_options

    options = storage_options(AwsConfig(region="us-east-1", endpoint_url=moto_endpoint))
    uri = f"s3://{fresh_bucket}/in.csv"

    def identity() -> str:
        stored = stat_uri(uri, Format.CSV, options)
        assert stored is not None
        return ContentIds(None, options).identify(uri, Format.CSV, stored)

    s3_client.put_object(Bucket=fresh_bucket, Key="in.csv", Body=b"a\n1\n")
    plain = identity()
    assert plain.endswith("version:-")
    s3_client.put_object(Bucket=fresh_bucket, Key="in.csv", Body=b"a\n2\n")  # same size
    assert identity() != plain
    s3_client.put_bucket_versioning(Bucket=fresh_bucket, VersioningConfiguration={"Status": "Enabled"})
    s3_client.put_object(Bucket=fresh_bucket, Key="in.csv", Body=b"a\n2\n")  # same bytes, new version
    version = s3_client.head_object(Bucket=fresh_bucket, Key="in.csv")["VersionId"]
    assert identity().endswith(f"version:{version}")


class Point(NamedTuple):
    x: int
    y: int = 0


class Limits(pydantic.BaseModel):
    low: float = 1.0
    tags: list[str] = pydantic.Field(default_factory=list)


class Slotted:
    __slots__ = ("a",)

    def __init__(self) -> None:
        self.a = 1


POINT = Point(1)
LIMITS = Limits(tags=["x"])
SLOTTED = Slotted()
DAY = datetime.date(2024, 1, 1)
BY_KEY = collections.defaultdict(list, {"a": [1]})
ARRAY = np.arange(4)


@functools.singledispatch
def scale(value: object) -> float:
    return 1.0


@scale.register
def _(value: int) -> float:
    return 2.0


def reads_library_values(df: pl.LazyFrame) -> pl.LazyFrame:
    limit = POINT.x + LIMITS.low + SLOTTED.a + DAY.day + len(BY_KEY) + ARRAY.sum() + scale(1)
    return df.filter(col("a") > limit)


def test_common_library_values_are_fingerprinted_not_refused() -> None:
    first = code_fingerprint(reads_library_values)
    assert first == code_fingerprint(reads_library_values)
    for change, undo in (
        (lambda: LIMITS.tags.append("y"), lambda: LIMITS.tags.pop()),
        (lambda: setattr(SLOTTED, "a", 2), lambda: setattr(SLOTTED, "a", 1)),
        (lambda: BY_KEY["b"].append(2), lambda: BY_KEY.pop("b")),
        (lambda: ARRAY.__setitem__(0, 9), lambda: ARRAY.__setitem__(0, 0)),
    ):
        change()
        try:
            assert code_fingerprint(reads_library_values) != first
        finally:
            undo()
        assert code_fingerprint(reads_library_values) == first
    LIMITS.low = 2.0  # also marks the field as set: a lasting change of the model's content
    assert code_fingerprint(reads_library_values) != first
    second = code_fingerprint(reads_library_values)
    scale.register(float, lambda value: 3.0)  # a new singledispatch implementation
    assert code_fingerprint(reads_library_values) != second
