"""Partitioned datasets on real files: one-partition runs, backfills, the cache per
partition, failure isolation, and the errors for bad partitions."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from glacier import Provider
from glacier.config import LocalConfig
from glacier.dag.partitions import parse_assignments
from glacier.errors import ConfigError, DefinitionError
from glacier.formats import Format
from glacier.io import open_dataset
from glacier.runner.history import History
from glacier.runner.partitions import backfill

FAIL_ENV = "GLACIER_TEST_FAILING_DAY"  # read at run time: not part of the task's code identity
DAYS = [(dt.date(2026, 11, 1) + dt.timedelta(days=n)).isoformat() for n in range(30)]


def _pipeline(base: Path):  # type: ignore[no-untyped-def]
    provider = Provider(config=LocalConfig(base_path=str(base)))
    events = provider.bucket(
        "lake",
        "events/",
        partition_by=["date"],
        schema={"date": pl.Date, "user": pl.String, "amount": pl.Int64},
    )
    daily = provider.bucket("lake", "daily/", partition_by=["date"])

    @provider.local().task(cache=True)
    def summarize(events: pl.LazyFrame) -> pl.LazyFrame:
        days = {d.isoformat() for d in events.select(pl.col("date").unique()).collect().to_series()}
        if os.environ.get(FAIL_ENV) in days:
            raise RuntimeError(f"bad day {os.environ[FAIL_ENV]}")
        return events.group_by("date", "user").agg(pl.col("amount").sum(), pl.len().alias("n")).sort("user")

    return events.transform(summarize).to(daily).with_name("daily")


def _generate(base: Path, days: list[str]) -> None:
    for n, day in enumerate(days):
        folder = base / "lake" / "events" / f"date={day}"
        folder.mkdir(parents=True)
        users = [f"u{(n * 7 + i) % 5}" for i in range(20 + n)]
        pl.DataFrame({"user": users, "amount": list(range(len(users)))}).write_parquet(
            folder / "part.parquet"
        )


def _read(base: Path, path: str = "daily/") -> pl.DataFrame:
    frame = open_dataset(str(base / "lake" / path), Format.PARQUET_DIR).load().collect()
    return frame.sort("date", "user")


def test_one_partition_reads_and_publishes_only_it(tmp_path: Path) -> None:
    _generate(tmp_path, DAYS[:3])
    pipeline = _pipeline(tmp_path)
    result = pipeline.run(partition={"date": DAYS[1]}, state_dir=tmp_path / "state")
    assert result.tasks["summarize"].output.endswith(f"daily/date={DAYS[1]}/")
    out = _read(tmp_path)
    assert out["date"].unique().to_list() == [dt.date.fromisoformat(DAYS[1])]
    assert out["n"].sum() == 21  # the second day's rows only
    stored = pl.read_parquet(next((tmp_path / "lake" / "daily" / f"date={DAYS[1]}").glob("*.parquet")))
    assert "date" not in stored.columns  # hive layout: the path holds the key

    # Another partition's publish leaves this one's version untouched.
    link = tmp_path / "lake" / "daily" / f"date={DAYS[1]}"
    before = os.readlink(link)
    pipeline.run(partition={"date": DAYS[2]}, state_dir=tmp_path / "state")
    assert os.readlink(link) == before
    assert sorted(_read(tmp_path)["date"].unique().to_list()) == [dt.date.fromisoformat(d) for d in DAYS[1:3]]


def test_backfill_of_30_days_equals_30_single_runs(tmp_path: Path) -> None:
    singles, filled = tmp_path / "singles", tmp_path / "backfill"
    _generate(singles, DAYS)
    _generate(filled, DAYS)
    one_by_one = _pipeline(singles)
    for day in DAYS:
        one_by_one.run(partition={"date": day}, state_dir=singles / "state")
    result = backfill(
        _pipeline(filled).compile(), start=DAYS[0], end=DAYS[-1], state_dir=filled / "state", workers=3
    )
    assert result.ok and [p.partition for p in result.partitions] == [f"date={d}" for d in DAYS]
    assert {p.status for p in result.partitions} == {"succeeded"}
    expected = _read(singles)
    assert expected.height > 30 * 4
    assert_frame_equal(_read(filled), expected)

    again = backfill(_pipeline(filled).compile(), start=DAYS[0], end=DAYS[-1], state_dir=filled / "state")
    assert {p.status for p in again.partitions} == {"cached"}  # unchanged inputs: skipped


def test_failed_partition_leaves_others_and_is_the_only_rerun(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = DAYS[:5]
    _generate(tmp_path, days)
    compiled = _pipeline(tmp_path).compile()
    monkeypatch.setenv(FAIL_ENV, days[2])
    first = backfill(compiled, values=days, state_dir=tmp_path / "state", workers=2, retry_delay=0)
    assert not first.ok
    assert [p.partition for p in first.failed] == [f"date={days[2]}"]
    assert "bad day" in (first.failed[0].error or "")
    published = sorted(_read(tmp_path)["date"].unique().to_list())
    assert published == [dt.date.fromisoformat(d) for d in days if d != days[2]]

    monkeypatch.delenv(FAIL_ENV)
    second = backfill(compiled, values=days, state_dir=tmp_path / "state", workers=2)
    statuses = {p.partition: p.status for p in second.partitions}
    assert statuses == {f"date={d}": ("succeeded" if d == days[2] else "cached") for d in days}
    assert sorted(_read(tmp_path)["date"].unique().to_list()) == [dt.date.fromisoformat(d) for d in days]

    with History(tmp_path / "state") as history:
        record = history.last_success("daily", "summarize", f"date={days[2]}")
        assert record is not None and record.partition == f"date={days[2]}"
        assert history.last_success("daily", "summarize", "date=2026-12-25") is None  # never run
        rows = [history.last_success("daily", "summarize", f"date={d}") for d in days]
        assert len({r.run_id for r in rows if r is not None}) == len(days)  # one run per partition


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("../etc", "not a valid path component"),
        ("2026/11/30", "not a valid path component"),
        ("a=b", "not a valid path component"),
        ("", "not a valid path component"),
        ("2026-13-01", "is not a date"),
        ("yesterday", "is not a date"),
    ],
)
def test_bad_partition_values_are_clear_errors(tmp_path: Path, value: str, words: str) -> None:
    pipeline = _pipeline(tmp_path)
    with pytest.raises(ConfigError) as info:
        pipeline.run(partition={"date": value}, state_dir=tmp_path / "state")
    assert words in info.value.problem and "of dataset 'lake/" in info.value.problem
    assert info.value.fix
    assert not (tmp_path / "state").exists()  # checked before anything ran


def test_partition_shape_errors(tmp_path: Path) -> None:
    pipeline = _pipeline(tmp_path)
    with pytest.raises(ConfigError, match="does not match dataset 'lake/events/'"):
        pipeline.run(partition={"day": "2026-11-01"})
    with pytest.raises(ConfigError, match="runs one partition at a time"):
        pipeline.run()
    with pytest.raises(
        ConfigError, match=r"--partition gives 'date' twice \('2026-11-01' and '2026-11-02'\)"
    ):
        parse_assignments(["date=2026-11-01", "date=2026-11-02"])
    assert parse_assignments(["date=2026-11-01,shard=3"]) == {"date": "2026-11-01", "shard": "3"}
    with pytest.raises(ConfigError, match="needs either a date range or a list"):
        backfill(pipeline.compile())
    with pytest.raises(ConfigError, match="ends before it starts"):
        backfill(pipeline.compile(), start="2026-11-30", end="2026-11-01")
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    with pytest.raises(DefinitionError, match="is a single file"):
        provider.bucket("lake", "events.parquet", partition_by=["date"])
    with pytest.raises(DefinitionError, match="which its schema does not declare"):
        provider.bucket("lake", "events/", partition_by=["day"], schema={"date": pl.Date})
    with pytest.raises(DefinitionError, match="not a column name"):
        provider.bucket("lake", "events/", partition_by=["a/b"])


def test_integer_partition_keys_are_checked_and_typed(tmp_path: Path) -> None:
    provider = Provider(config=LocalConfig(base_path=str(tmp_path)))
    src = provider.bucket("lake", "src/", partition_by=["shard"], schema={"shard": pl.Int32, "x": pl.Int64})
    dst = provider.bucket("lake", "dst/", partition_by=["shard"])

    @provider.local().task()
    def double(src: pl.LazyFrame) -> pl.LazyFrame:
        return src.with_columns(pl.col("x") * 2)

    pipeline = src.transform(double).to(dst).with_name("shards")
    (tmp_path / "lake" / "src" / "shard=7").mkdir(parents=True)
    pl.DataFrame({"x": [1, 2]}).write_parquet(tmp_path / "lake" / "src" / "shard=7" / "p.parquet")
    pipeline.run(partition={"shard": "7"}, state_dir=tmp_path / "state")
    out = open_dataset(str(tmp_path / "lake" / "dst/"), Format.PARQUET_DIR).load().collect().sort("x")
    assert out["x"].to_list() == [2, 4] and out["shard"].to_list() == [7, 7]
    with pytest.raises(ConfigError, match="is not an integer"):
        pipeline.run(partition={"shard": "seven"})


def test_cli_run_partition_and_backfill(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from glacier.cli import app

    subprocess.run(
        [sys.executable, "examples/operations/generate.py", str(tmp_path), "--partitioned"], check=True
    )
    example = "examples/operations/partitioned.py"
    common = ["--data-dir", str(tmp_path), "--state-dir", str(tmp_path / "state")]
    runner = CliRunner()
    one = runner.invoke(app, ["run", example, "--quiet", "--partition", "date=2026-11-02", *common])
    assert one.exit_code == 0, one.output
    filled = runner.invoke(app, ["backfill", example, "--from", "2026-11-01", "--to", "2026-11-04", *common])
    assert filled.exit_code == 0, filled.output
    assert "date=2026-11-02 │ cached" in filled.output and "4/4 partitions ok" in filled.output
    assert filled.output.count("│ succeeded") == 3
    listed = runner.invoke(app, ["backfill", example, "--values", "2026-11-01,2026-11-04", *common])
    assert listed.exit_code == 0 and "2/2 partitions ok" in listed.output
    bad = runner.invoke(app, ["run", example, "--partition", "date=2026-11-31", *common])
    assert bad.exit_code == 1 and "is not a date" in bad.output
    odd = runner.invoke(app, ["run", example, "--partition", "2026-11-01", *common])
    assert odd.exit_code == 1 and "is not KEY=VALUE" in odd.output
