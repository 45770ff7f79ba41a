"""Fused execution (docs/fusion.md): groups of tasks run as one Polars query, on real files.

``pl.collect_all`` is wrapped (not replaced) to see each group's combined plan: the real
query still runs."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from polars.testing import assert_frame_equal
from runtime_helpers import CUSTOMERS, SALES, write_sources

from glacier import Pipeline, Provider, load_pipelines
from glacier.cli import app
from glacier.config import LocalConfig
from glacier.errors import ExecutionError
from glacier.runner import History, run_pipeline

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCALE = 0.01


class Plans:
    """Records the combined plan and the number of sinks of every ``pl.collect_all`` call."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.plans: list[str] = []
        self.sinks: list[int] = []
        real = pl.collect_all

        def spy(frames: Any, **kwargs: Any) -> Any:
            frames = list(frames)
            self.plans.append(pl.explain_all(frames))
            self.sinks.append(len(frames))
            return real(frames, **kwargs)

        monkeypatch.setattr(pl, "collect_all", spy)


@pytest.fixture
def plans(monkeypatch: pytest.MonkeyPatch) -> Plans:
    return Plans(monkeypatch)


def _bench_module(name: str) -> ModuleType:
    sys.path.insert(0, str(BENCH))
    try:
        return __import__(name)
    finally:
        sys.path.remove(str(BENCH))


@pytest.fixture(scope="module")
def tpch_tables(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("tpch-fuse")
    _bench_module("tpch_pipelines").generate(base, SCALE)
    return base / "tpch"


def _outputs(folder: Path) -> dict[str, pl.DataFrame]:
    return {str(p.relative_to(folder)): pl.read_parquet(p) for p in sorted(folder.rglob("*.parquet"))}


@pytest.mark.parametrize("file", ["tpch_pipelines.py", "tpch_multi.py"])
def test_fused_tpch_pipelines_equal_the_unfused_runs(
    file: str, tpch_tables: Path, tmp_path: Path, state_dir: Path, plans: Plans
) -> None:
    pipelines = load_pipelines(BENCH / file).pipelines
    written: dict[bool, dict[str, pl.DataFrame]] = {}
    for fuse in (True, False):
        base = tmp_path / f"fuse-{fuse}"
        shutil.copytree(tpch_tables, base / "tpch", ignore=shutil.ignore_patterns("work"))
        for pipeline in pipelines:
            result = run_pipeline(
                pipeline, storage=LocalConfig(base_path=str(base)), state_dir=base / "state", fuse=fuse
            )
            assert all(t.status == "succeeded" for t in result.tasks.values())
            if fuse:  # rows and bytes are each output's own
                for run in result.tasks.values():
                    assert run.rows == pl.scan_parquet(run.output).select(pl.len()).collect().item()
                    assert run.bytes == Path(run.output).stat().st_size
        written[fuse] = _outputs(base / "tpch/work")
    # tpch_pipelines: each pipeline one group of its 2 tasks; tpch_multi: all 29 tasks in one query.
    assert plans.sinks == ([2, 2] if file == "tpch_pipelines.py" else [29])
    assert sorted(written[True]) == sorted(written[False]) and written[True]
    for name, frame in written[True].items():  # intermediate steps have no ORDER BY
        assert_frame_equal(frame, written[False][name], check_row_order=False)
    if file == "tpch_multi.py":
        tpch_pipelines = _bench_module("tpch_pipelines")
        for query in range(1, 23):
            tpch_pipelines.check_answer(query, written[True][f"multi/q{query}.parquet"], SCALE)


def _provider(tmp_path: Path) -> Provider:
    write_sources(tmp_path, "lake", {"sales.parquet": SALES, "customers.parquet": CUSTOMERS})
    return Provider(config=LocalConfig(base_path=str(tmp_path)))


def test_a_shared_scan_is_read_once(tmp_path: Path, state_dir: Path, plans: Plans) -> None:
    provider = _provider(tmp_path)
    ex = provider.local()
    sales = provider.bucket("lake", "sales.parquet")

    @ex.task()
    def per_category(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") > 2.0).group_by("category").agg(pl.col("amount").sum())

    @ex.task()
    def per_customer(df: pl.LazyFrame) -> pl.LazyFrame:  # the same scan and filter
        return df.filter(pl.col("amount") > 2.0).group_by("customer_id").agg(pl.col("amount").sum())

    @ex.task(timeout=60)  # runs alone, after the group: it reads the published files
    def report(a: pl.LazyFrame, b: pl.LazyFrame) -> pl.LazyFrame:
        return a.select(pl.len()).join(b.select(pl.len()), how="cross", suffix="_b")

    a = sales.transform(per_category).to(provider.bucket("lake", "a.parquet"))
    b = sales.transform(per_customer).to(provider.bucket("lake", "b.parquet"))
    result = (
        Pipeline(name="shared", a=a, b=b).transform(report).to(provider.bucket("lake", "r.parquet")).run()
    )
    assert [t.status for t in result.tasks.values()] == ["succeeded"] * 3 and plans.sinks == [2]
    scans = [line for line in plans.plans[0].splitlines() if "SCAN" in line]
    assert len(scans) == 1 and "sales.parquet" in scans[0], plans.plans[0]  # one read for both
    assert pl.read_parquet(tmp_path / "lake/r.parquet").row(0) == (3, 5)


def test_a_member_reads_its_upstream_plan_not_the_file(tmp_path: Path, state_dir: Path, plans: Plans) -> None:
    provider = _provider(tmp_path)
    ex = provider.local()

    @ex.task()
    def joined(sales: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
        return sales.join(customers, on="customer_id")

    @ex.task()
    def per_region(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by("region").agg(pl.col("amount").sum()).sort("region")

    sources = {
        "sales": provider.bucket("lake", "sales.parquet"),
        "customers": provider.bucket("lake", "customers.parquet"),
    }
    first = Pipeline(name="chain", **sources).transform(joined).to(provider.bucket("lake", "joined.parquet"))
    result = (
        Pipeline(name="chain", df=first)
        .transform(per_region)
        .to(provider.bucket("lake", "region.parquet"))
        .run()
    )
    assert [t.status for t in result.tasks.values()] == ["succeeded"] * 2
    (plan,) = plans.plans
    assert "joined.parquet" not in "".join(line for line in plan.splitlines() if "SCAN" in line), plan
    assert plan.count("INNER JOIN:") == 1 and "CACHE" in plan  # the join is computed once, for both sinks
    expected = (
        SALES.join(CUSTOMERS, on="customer_id").group_by("region").agg(pl.col("amount").sum()).sort("region")
    )
    assert_frame_equal(pl.read_parquet(tmp_path / "lake/region.parquet"), expected)
    assert result["joined"].rows == SALES.height and result["per_region"].rows == expected.height


@pytest.mark.parametrize("where", ["function", "query"])
def test_a_failing_member_is_named_and_earlier_outputs_survive(
    where: str, tmp_path: Path, state_dir: Path, plans: Plans
) -> None:
    provider = _provider(tmp_path)
    ex = provider.local()
    sales = provider.bucket("lake", "sales.parquet")
    previous = pl.DataFrame({"old": [1]})
    previous.write_parquet(tmp_path / "lake/broken.parquet")  # an earlier run's output

    @ex.task()
    def cleaned(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") > 2.0)

    @ex.task()
    def broken(df: pl.LazyFrame) -> pl.LazyFrame:
        if where == "function":
            raise ValueError("bad input")
        # Fails only once Polars runs the query: 'category' is not numeric.
        return df.with_columns(pl.col("category").cast(pl.Int64, strict=True))

    @ex.task()
    def after(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.head(1)

    @ex.task()
    def beside(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select(pl.col("amount").sum())

    @ex.task()
    def combine(a: pl.LazyFrame, b: pl.LazyFrame) -> pl.LazyFrame:
        return a.select(pl.len()).join(b, how="cross")

    first = sales.transform(cleaned).to(provider.bucket("lake", "cleaned.parquet"))
    bad = Pipeline(name="failing", df=first).transform(broken).to(provider.bucket("lake", "broken.parquet"))
    tail = Pipeline(name="failing", df=bad).transform(after).to(provider.bucket("lake", "after.parquet"))
    side = sales.transform(beside).to(provider.bucket("lake", "beside.parquet"))
    end = (
        Pipeline(name="failing", a=tail, b=side).transform(combine).to(provider.bucket("lake", "end.parquet"))
    )
    with pytest.raises(ExecutionError) as info:
        end.run(mode="local")
    assert info.value.task == "broken" and "'broken'" in str(info.value)
    assert ("ValueError: bad input" if where == "function" else "InvalidOperationError") in str(info.value)
    result = info.value.result  # type: ignore[attr-defined]
    statuses = {name: run.status for name, run in result.tasks.items()}
    assert statuses == {
        "beside": "succeeded",
        "cleaned": "succeeded",
        "broken": "failed",
        "after": "skipped",
        "combine": "skipped",
    }
    # The group ran as one query first (when its plan could be built), then task by task.
    assert plans.sinks == ([] if where == "function" else [5])
    assert_frame_equal(pl.read_parquet(tmp_path / "lake/broken.parquet"), previous)  # intact
    assert (
        pl.read_parquet(tmp_path / "lake/cleaned.parquet").height
        == SALES.filter(pl.col("amount") > 2.0).height
    )
    assert pl.read_parquet(tmp_path / "lake/beside.parquet")["amount"].item() == SALES["amount"].sum()
    files = sorted(p.name for p in (tmp_path / "lake").iterdir())
    assert files == [
        "beside.parquet",
        "broken.parquet",
        "cleaned.parquet",
        "customers.parquet",
        "sales.parquet",
    ]
    runs = History(state_dir).runs("failing")
    assert runs[0].status == "failed" and "broken" in (runs[0].error or "")


def _cached_chain(provider: Provider) -> Pipeline:
    ex = provider.local()

    @ex.task(cache=True)
    def big(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") > 2.0)

    @ex.task(cache=True)
    def per_customer(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.group_by("customer_id").agg(pl.col("amount").sum()).sort("customer_id")

    @ex.task(cache=True)
    def top(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.sort("amount", descending=True).head(2)

    sales = provider.bucket("lake", "sales.parquet")
    first = sales.transform(big).to(provider.bucket("lake", "big.parquet"))
    second = (
        Pipeline(name="cached", df=first).transform(per_customer).to(provider.bucket("lake", "per.parquet"))
    )
    return Pipeline(name="cached", df=second).transform(top).to(provider.bucket("lake", "top.parquet"))


def _written(folder: Path) -> dict[str, int]:
    """output -> its inode and mtime: a rewrite changes them."""
    return {p.name: hash((p.stat().st_ino, p.stat().st_mtime_ns)) for p in folder.glob("*.parquet")}


def test_cache_keys_of_fused_members_hold_and_a_cached_member_is_not_recomputed(
    tmp_path: Path, state_dir: Path, plans: Plans
) -> None:
    provider = _provider(tmp_path)
    lake = tmp_path / "lake"
    pipeline = _cached_chain(provider)
    first = pipeline.run(mode="local")
    assert [t.status for t in first.tasks.values()] == ["succeeded"] * 3 and plans.sinks == [3]
    # The keys recorded for the fused members (computed after the publish for the two that
    # read a member) are the keys a later run computes: everything is a cache hit.
    before = _written(lake)
    again = pipeline.run(mode="local")
    assert [t.status for t in again.tasks.values()] == ["cached"] * 3 and _written(lake) == before
    # Only the last output gone: the group's two cached members are not recomputed and
    # 'top', the one member left to run, reads the published per.parquet.
    (lake / "top.parquet").unlink()
    third = pipeline.run(mode="local")
    assert [t.status for t in third.tasks.values()] == ["cached", "cached", "succeeded"]
    assert plans.sinks == [3, 1] and "per.parquet" in plans.plans[-1] and "big.parquet" not in plans.plans[-1]
    after = _written(lake)
    assert after["big.parquet"] == before["big.parquet"] and after["per.parquet"] == before["per.parquet"]
    # The middle output gone: 'per_customer' and 'top' (which reads it) run as one group
    # that reads the cached member's published file.
    (lake / "per.parquet").unlink()
    fourth = pipeline.run(mode="local")
    assert [t.status for t in fourth.tasks.values()] == ["cached", "succeeded", "succeeded"]
    assert plans.sinks == [3, 1, 2] and "big.parquet" in plans.plans[-1]
    assert _written(lake)["big.parquet"] == before["big.parquet"]
    assert_frame_equal(
        pl.read_parquet(lake / "top.parquet"),
        pl.read_parquet(lake / "per.parquet").sort("amount", descending=True).head(2),
    )


def test_schema_of_a_fused_output_is_checked_before_publish(tmp_path: Path, state_dir: Path) -> None:
    provider = _provider(tmp_path)
    ex = provider.local()

    @ex.task()
    def keep(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select("order_id", "amount")

    @ex.task()
    def wrong(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select("order_id")  # the declaration also wants 'amount'

    declared = provider.bucket("lake", "checked.parquet", schema={"order_id": pl.Int64, "amount": pl.Float64})
    sales = provider.bucket("lake", "sales.parquet")
    first = sales.transform(keep).to(provider.bucket("lake", "kept.parquet"))
    pipeline = Pipeline(name="schema", df=first).transform(wrong).to(declared)
    with pytest.raises(ExecutionError) as info:
        pipeline.run(mode="local")
    assert (
        info.value.task == "wrong" and "'amount'" in str(info.value) and "declared schema" in str(info.value)
    )
    assert (tmp_path / "lake/kept.parquet").exists() and not (tmp_path / "lake/checked.parquet").exists()


def test_tasks_with_a_timeout_or_partitions_run_alone(tmp_path: Path, state_dir: Path, plans: Plans) -> None:
    provider = _provider(tmp_path)
    ex = provider.local()

    @ex.task(timeout=30)
    def timed(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.filter(pl.col("amount") > 2.0)

    @ex.task()
    def after(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.head(3)

    sales = provider.bucket("lake", "sales.parquet")
    first = sales.transform(timed).to(provider.bucket("lake", "timed.parquet"))
    result = (
        Pipeline(name="alone", df=first).transform(after).to(provider.bucket("lake", "after.parquet")).run()
    )
    assert [t.status for t in result.tasks.values()] == ["succeeded", "succeeded"]
    assert plans.sinks == []  # two lone tasks: nothing to fuse


def _two_step_file(tmp_path: Path) -> Path:
    write_sources(tmp_path / "data", "lake", {"sales.parquet": SALES})
    file = tmp_path / "two_steps.py"
    file.write_text(
        "import polars as pl\n"
        "from glacier import Pipeline, Provider\n"
        "provider = Provider()\n"
        "ex = provider.local()\n"
        "@ex.task()\n"
        "def big(df: pl.LazyFrame) -> pl.LazyFrame:\n"
        "    return df.filter(pl.col('amount') > 2.0)\n"
        "@ex.task()\n"
        "def total(df: pl.LazyFrame) -> pl.LazyFrame:\n"
        "    return df.select(pl.col('amount').sum())\n"
        "sales = provider.bucket('lake', 'sales.parquet')\n"
        "first = sales.transform(big).to(provider.bucket('lake', 'big.parquet'))\n"
        "two_steps = Pipeline(name='two_steps', df=first).transform(total)\n"
        "two_steps = two_steps.to(provider.bucket('lake', 'total.parquet'))\n"
    )
    return file


@pytest.mark.parametrize("flag", [[], ["--no-fuse"]])
def test_glacier_run_fuses_unless_no_fuse(
    flag: list[str], tmp_path: Path, state_dir: Path, plans: Plans
) -> None:
    file = _two_step_file(tmp_path)
    data = tmp_path / "data"
    result = CliRunner().invoke(app, ["run", str(file), "--data-dir", str(data), "--quiet", *flag])
    assert result.exit_code == 0, result.output
    assert plans.sinks == ([] if flag else [2])
    total = pl.read_parquet(data / "lake/total.parquet")["amount"].item()
    assert total == SALES.filter(pl.col("amount") > 2.0)["amount"].sum()
    runs = History(state_dir).task_rows(History(state_dir).runs("two_steps")[0].run_id)
    assert [(r.task, r.status, r.rows) for r in runs] == [("big", "succeeded", 11), ("total", "succeeded", 1)]


def test_run_option_fuse_false_runs_task_by_task(tmp_path: Path, state_dir: Path, plans: Plans) -> None:
    provider = _provider(tmp_path)
    result = _cached_chain(provider).run(mode="local", fuse=False)
    assert [t.status for t in result.tasks.values()] == ["succeeded"] * 3 and plans.sinks == []


def test_a_long_chain_runs_in_groups_of_at_most_32(tmp_path: Path, state_dir: Path, plans: Plans) -> None:
    from test_runtime_scheduler import _dag, _source, add_one

    from glacier.dag.contract import CompiledPipeline

    _source(tmp_path)
    names = [f"t{i:03d}" for i in range(100)]
    dag = _dag("long_chain", tmp_path, {name: (names[i - 1],) if i else () for i, name in enumerate(names)})
    result = run_pipeline(CompiledPipeline(dag=dag, functions=dict.fromkeys(names, add_one)))
    assert list(result.tasks) == names and {t.status for t in result.tasks.values()} == {"succeeded"}
    assert plans.sinks == [32, 32, 32, 4]
    last = pl.read_parquet(tmp_path / "lake/t099/data.parquet")
    assert last["value"].to_list() == [100] * 1_000  # each task added one, in order
    assert all(
        pl.read_parquet(tmp_path / f"lake/{n}/data.parquet")["value"][0] == i + 1 for i, n in enumerate(names)
    )
