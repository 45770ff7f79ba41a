"""The definition API: task decorator forms, chainable buckets, the Pipeline factory, and the
multi-source start, all producing one typed DAG."""

from __future__ import annotations

import polars as pl
import pytest

from glacier import Bucket, Pipeline, Provider, Task
from glacier.config import AwsConfig, LambdaConfig, LocalConfig, SparkConfig
from glacier.dsl import PendingTransform, TransformStep
from glacier.errors import DefinitionError


def edges(dag) -> set[str]:  # type: ignore[no-untyped-def]
    return {f"{a.split(':', 1)[1]} -> {b.split(':', 1)[1]}" for a, b in dag.edges}


@pytest.fixture
def provider() -> Provider:
    return Provider(config=LocalConfig(base_path="/nonexistent/never-read"))


FRAME = pl.LazyFrame({"id": [1, 2, 3], "value": [10, None, 30], "category": ["a", "a", "b"]})


# ---- tasks ------------------------------------------------------------------------------------
def test_task_decorator_without_parentheses(provider: Provider) -> None:
    executor = provider.local()

    @executor.task
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        """Drop missing values."""
        return df.drop_nulls()

    assert isinstance(clean, Task)
    assert clean.name == "clean"
    assert clean.__name__ == "clean"
    assert clean.__doc__ == "Drop missing values."
    assert clean.definition.executor.kind == "local"
    assert clean.definition.retries == 0 and clean.definition.timeout is None and not clean.definition.cache


def test_task_decorator_with_empty_parentheses(provider: Provider) -> None:
    @provider.serverless(config=LambdaConfig(memory=2048, architecture="x86_64")).task()
    def enrich(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    assert enrich.definition.executor.kind == "serverless"
    assert enrich.definition.executor.config == LambdaConfig(memory=2048, architecture="x86_64")


def test_task_decorator_with_every_option(provider: Provider) -> None:
    @provider.spark(config=SparkConfig(workers=5, engine="emr-serverless")).task(
        name="big_join", timeout=600, retries=3, cache=True, priority="high", shuffle_partitions=64
    )
    def join(sales: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
        return sales.join(customers, on="id")

    definition = join.definition
    assert join.name == definition.name == "big_join"
    assert (definition.timeout, definition.retries, definition.cache) == (600, 3, True)
    assert definition.config == {"priority": "high", "shuffle_partitions": 64}
    assert definition.executor.kind == "spark"
    assert definition.executor.config == SparkConfig(workers=5, engine="emr-serverless")
    assert definition.required_params == ("sales", "customers")


def test_tasks_stay_plain_callables(provider: Provider) -> None:
    @provider.local().task()
    def double(df: pl.LazyFrame, factor: int = 2) -> pl.LazyFrame:
        return df.with_columns(pl.col("value") * factor)

    expected = [20, None, 60]
    assert double(FRAME).collect()["value"].to_list() == expected
    assert double(df=FRAME).collect()["value"].to_list() == expected
    assert double(FRAME, 3).collect()["value"].to_list() == [30, None, 90]
    assert double.func(FRAME).collect()["value"].to_list() == expected
    assert double.definition.required_params == ("df",)
    assert double.definition.optional_params == ("factor",)


def test_pyspark_annotated_tasks_are_marked_without_importing_pyspark(provider: Provider) -> None:
    @provider.spark().task
    def spark_job(df: pyspark.sql.DataFrame) -> pyspark.sql.DataFrame:  # type: ignore[name-defined]  # noqa: F821
        return df

    @provider.spark().task
    def polars_job(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    assert spark_job.definition.dataframe_api == "pyspark"
    assert polars_job.definition.dataframe_api == "polars"


# ---- chainable storage ------------------------------------------------------------------------
def test_bucket_chain_returns_buckets_carrying_lineage(provider: Provider) -> None:
    ex = provider.local()
    clean = ex.task(name="clean")(lambda df: df.drop_nulls())
    raw, mid, out = (provider.bucket("data", p) for p in ("raw.parquet", "mid.parquet", "out.parquet"))

    pending = raw.transform(clean)
    assert isinstance(pending, PendingTransform)
    head = pending.to(mid)
    assert isinstance(head, Bucket)
    assert (head.bucket, head.path, head.id) == ("data", "mid.parquet", "data/mid.parquet")
    assert head is not mid and mid._lineage == []  # the declared bucket stays a plain bucket
    final = head.transform(clean).to(out)
    assert [type(s) for s in final._lineage] == [TransformStep, TransformStep]
    assert [s.target.id for s in final._lineage] == ["data/mid.parquet", "data/out.parquet"]
    assert repr(final) == "Bucket(bucket='data', path='out.parquet', lineage=2 steps)"
    assert repr(raw) == "Bucket(bucket='data', path='raw.parquet')"


def test_with_name_sets_metadata_and_returns_self(provider: Provider) -> None:
    t = provider.local().task(name="t")(lambda df: df)
    head = provider.bucket("data", "a.parquet").transform(t).to(provider.bucket("data", "b.parquet"))
    assert head.pipeline_name == "pipeline_b_parquet"
    assert head.with_name("nightly", "Nightly load") is head
    assert head._metadata == {"name": "nightly", "description": "Nightly load"}
    dag = head.to_dag()
    assert (dag.name, dag.description) == ("nightly", "Nightly load")


def test_bucket_uri_follows_the_provider() -> None:
    aws = Provider(config=AwsConfig(region="eu-west-1")).bucket("lake", "raw/x.parquet")
    local = Provider(config=LocalConfig(base_path="/srv/data")).bucket("lake", "raw/x.parquet")
    assert aws.get_uri() == "s3://lake/raw/x.parquet"
    assert local.get_uri() == "/srv/data/lake/raw/x.parquet"


def test_bucket_paths_are_normalised_and_formats_follow_the_suffix(provider: Provider) -> None:
    t = provider.local().task(name="t")(lambda df: df)
    b = provider.bucket("data", "/raw//events.csv")
    assert b.path == "raw/events.csv"
    head = b.transform(t).to(provider.bucket("data", "out/partitioned/"))
    head = head.transform(t).to(provider.bucket("data", "x.jsonl"))
    head = head.transform(t).to(provider.bucket("data", "y.arrow"))
    formats = {ds.path: ds.format.value for ds in head.to_dag().datasets}
    assert formats == {
        "raw/events.csv": "csv",
        "out/partitioned/": "parquet_dir",
        "x.jsonl": "ndjson",
        "y.arrow": "ipc",
    }


def test_external_buckets_are_marked_unmanaged(provider: Provider) -> None:
    t = provider.local().task(name="t")(lambda df: df)
    src = provider.bucket("vendor-drop", "feed.csv", managed=False)
    dag = src.transform(t).to(provider.bucket("data", "feed.parquet")).to_dag()
    assert dag.dataset("vendor-drop/feed.csv").managed is False
    assert dag.dataset("data/feed.parquet").managed is True


# ---- the factory and the multi-source start ---------------------------------------------------
def test_factory_and_chain_build_the_same_dag(provider: Provider) -> None:
    ex = provider.local()

    @ex.task()
    def clean(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    @ex.task()
    def aggregate(frame: pl.LazyFrame) -> pl.LazyFrame:  # any name for a single source
        return frame

    raw, mid, out = (provider.bucket("data", p) for p in ("raw.parquet", "mid.parquet", "out.parquet"))
    factory = Pipeline(name="etl").source(raw).transform(clean).to(mid).transform(aggregate).to(out)
    chained = raw.transform(clean).to(mid).transform(aggregate).to(out).with_name("etl")
    assert factory.to_dag() == chained.to_dag()
    assert factory.to_dag().task("aggregate").inputs == {"frame": "data/mid.parquet"}
    assert repr(factory) == "Pipeline(name='etl', steps=2)"


def test_multi_source_start_then_single_source_chaining(provider: Provider) -> None:
    ex = provider.local()

    @ex.task()
    def join(sales_df: pl.LazyFrame, customers_df: pl.LazyFrame) -> pl.LazyFrame:
        return sales_df.join(customers_df, on="id")

    @ex.task()
    def summarize(df: pl.LazyFrame) -> pl.LazyFrame:
        return df

    sales, customers = provider.bucket("data", "sales.parquet"), provider.bucket("data", "customers.parquet")
    joined, summary = provider.bucket("data", "joined.parquet"), provider.bucket("data", "summary.parquet")
    start = Pipeline(sales_df=sales, customers_df=customers)
    assert repr(start) == "Pipeline(sources=[sales_df, customers_df], steps=0)"
    head = start.transform(join).to(joined).transform(summarize).to(summary)
    dag = head.to_dag()
    assert dag.task("join").inputs == {
        "customers_df": "data/customers.parquet",
        "sales_df": "data/sales.parquet",
    }
    assert edges(dag) >= {"data/joined.parquet -> summarize", "summarize -> data/summary.parquet"}
    # The factory's .sources() is the same thing.
    via_sources = (
        Pipeline(name="x").sources(customers_df=customers, sales_df=sales).transform(join).to(joined)
    )
    assert via_sources.to_dag().task("join") == Pipeline(sales_df=sales, customers_df=customers).transform(
        join
    ).to(joined).to_dag().task("join")


def test_bucket_with_lineage_is_a_source_of_another_pipeline(provider: Provider) -> None:
    ex = provider.local()
    join = ex.task(name="join")(lambda left, right: left.join(right, on="id"))
    clean = ex.task(name="clean")(lambda df: df.drop_nulls())
    report = ex.task(name="report")(lambda df: df)
    raw, a, b = (provider.bucket("data", p) for p in ("raw.parquet", "a.parquet", "b.parquet"))
    cleaned = raw.transform(clean).to(a)  # a bucket carrying its lineage

    # As the single source of a factory pipeline: the upstream step comes along.
    downstream = Pipeline(name="report").source(cleaned).transform(report).to(b)
    assert [t.name for t in downstream.to_dag().tasks] == ["clean", "report"]
    # The plain declared bucket, by contrast, only names the dataset.
    assert [t.name for t in Pipeline(name="r").source(a).transform(report).to(b).to_dag().tasks] == ["report"]
    # As one of several named sources, and as a chain start.
    other = provider.bucket("data", "other.parquet")
    joined = Pipeline(left=cleaned, right=other).transform(join).to(provider.bucket("data", "j.parquet"))
    assert edges(joined.to_dag()) == {
        "data/raw.parquet -> clean",
        "clean -> data/a.parquet",
        "data/a.parquet -> join",
        "data/other.parquet -> join",
        "join -> data/j.parquet",
    }
    assert [t.name for t in cleaned.transform(report).to(b).to_dag().tasks] == ["clean", "report"]


def test_a_pipeline_object_is_a_source_where_a_bucket_is(provider: Provider) -> None:
    ex = provider.local()
    step = ex.task(name="step")(lambda df: df)
    more = ex.task(name="more")(lambda df: df)
    both = ex.task(name="both")(lambda x, y: x)
    raw, a, b, c = (provider.bucket("data", f"{n}.parquet") for n in "rabc")
    first = Pipeline(name="first").source(raw).transform(step).to(a)
    assert (first.bucket, first.path, first.get_uri()) == ("data", "a.parquet", a.get_uri())
    assert (first.id, first.provider, first.managed) == ("data/a.parquet", provider, True)
    second = Pipeline(name="second").source(first).transform(more).to(b)
    assert [t.name for t in second.to_dag().tasks] == ["step", "more"]
    third = Pipeline(x=first, y=second).transform(both).to(c).with_name("third")
    assert third.to_dag().task("both").inputs == {"x": "data/a.parquet", "y": "data/b.parquet"}
    assert [t.name for t in first.transform(more).to(b).to_dag().tasks] == ["step", "more"]
    assert first.to_pipeline() is first


def test_pipelines_branch_without_sharing_state(provider: Provider) -> None:
    ex = provider.local()
    t1, t2, t3 = (ex.task(name=n)(lambda df: df) for n in ("t1", "t2", "t3"))
    raw, a, b, c = (provider.bucket("data", f"{n}.parquet") for n in "rabc")
    base = Pipeline(name="base").source(raw).transform(t1).to(a)
    left = base.transform(t2).to(b)
    right = base.transform(t3).to(c)
    assert [t.name for t in base.to_dag().tasks] == ["t1"]
    assert [t.name for t in left.to_dag().tasks] == ["t1", "t2"]
    assert [t.name for t in right.to_dag().tasks] == ["t1", "t3"]


def test_to_pipeline_keeps_name_description_and_lineage(provider: Provider) -> None:
    t = provider.local().task(name="t")(lambda df: df)
    head = provider.bucket("data", "a.parquet").transform(t).to(provider.bucket("data", "b.parquet"))
    head.with_name("named", "described")
    pipeline = head.to_pipeline()
    assert type(pipeline) is Pipeline
    assert (pipeline.name, pipeline.description) == ("named", "described")
    assert pipeline.to_dag() == head.to_dag()
    # ...and it continues from where the bucket stands.
    longer = pipeline.transform(t).to(provider.bucket("data", "c.parquet"))
    assert len(longer.to_dag().tasks) == 2


def test_a_task_reused_in_one_pipeline_gets_a_node_per_application(provider: Provider) -> None:
    step = provider.local().task(name="step")(lambda df: df)
    a, b, c = (provider.bucket("data", f"{n}.parquet") for n in "abc")
    dag = a.transform(step).to(b).transform(step).to(c).to_dag()
    assert dag.topological_order() == ["step__b_parquet", "step__c_parquet"]


def test_the_same_step_reached_twice_is_one_node(provider: Provider) -> None:
    ex = provider.local()
    t = ex.task(name="t")(lambda df: df)
    j = ex.task(name="j")(lambda x, y: x)
    raw, a, out = (provider.bucket("data", f"{n}.parquet") for n in ("raw", "a", "out"))
    shared = raw.transform(t).to(a)
    dag = Pipeline(x=shared, y=raw.transform(t).to(a)).transform(j).to(out).to_dag()
    assert dag.topological_order() == ["t", "j"]


def test_visualize_from_both_styles(provider: Provider) -> None:
    t = provider.serverless().task(name="t")(lambda df: df)
    raw, out = provider.bucket("data", "raw.parquet"), provider.bucket("data", "out.parquet")
    expected = (
        "graph LR\n"
        '    d0[("data/out.parquet")]\n'
        '    d1[("data/raw.parquet")]\n'
        '    t0["t<br/>(serverless)"]\n'
        "    d1 --> t0\n"
        "    t0 --> d0\n"
    )
    assert raw.transform(t).to(out).visualize() == expected
    assert Pipeline(name="p").source(raw).transform(t).to(out).visualize() == expected


# ---- the public lineage API (what discovery and compile use) ----------------------------------
def test_the_public_lineage_api_of_buckets_and_pipelines(provider: Provider) -> None:
    ex = provider.local()
    t = ex.task(name="t")(lambda df: df)
    u = ex.task(name="u")(lambda df: df)
    raw, mid, out = (provider.bucket("data", f"{n}.parquet") for n in ("raw", "mid", "out"))

    assert raw.as_bucket() is raw
    assert (raw.produced_by, raw.recorded_steps(), raw.steps()) == (None, (), [])
    assert not raw.defines_pipeline and raw.declared_name is None

    head = raw.transform(t).to(mid)
    step = head.produced_by
    assert isinstance(step, TransformStep)
    assert (step.task, step.sources, step.target.id) == (t, {"df": raw}, "data/mid.parquet")
    assert not step.target.defines_pipeline  # the step keeps a plain copy of the location
    assert head.recorded_steps() == (step,) and head.steps() == [step]
    assert head.defines_pipeline and head.declared_name is None
    assert head.with_name("daily", "Daily").declared_name == "daily" and head.description == "Daily"

    longer = head.transform(u).to(out)
    assert [s.task.name for s in longer.steps()] == ["t", "u"]  # upstream first
    assert longer.steps() == longer._lineage  # the seeds' spelling of the same thing
    moved = out.written_by(u, {"df": head})
    assert moved.produced_by is not None and [s.task.name for s in moved.steps()] == ["t", "u"]

    sources_only = Pipeline(name="p").source(raw)
    assert not sources_only.defines_pipeline and sources_only.pending is None
    pending = sources_only.transform(t)
    assert pending.defines_pipeline and pending.pending is not None and pending.pending.task is t
    with pytest.raises(DefinitionError, match=r"Pipeline 'p' has an incomplete step: .transform\(t\)"):
        pending.steps()
    assert pending._lineage == []  # the seeds' view never raises
    done = pending.to(mid)
    assert done.pending is None and done.declared_name == "p"
    assert [s.target.id for s in done.steps()] == ["data/mid.parquet"]
    assert done.as_bucket().id == "data/mid.parquet" and done.as_bucket().produced_by is not None


def test_compile_dataset_is_the_node_the_compiled_dag_holds(provider: Provider) -> None:
    t = provider.local().task(name="t")(lambda df: df)
    src, out = provider.bucket("vendor", "in.csv", managed=False), provider.bucket("data", "parts/")
    dag = src.transform(t).to(out).to_dag()
    assert src.compile_dataset() == dag.dataset("vendor/in.csv")
    assert out.compile_dataset() == dag.dataset("data/parts/")
    assert out.compile_dataset().is_directory and not src.compile_dataset().managed


# ---- decorators only record --------------------------------------------------------------------
def test_decorating_and_chaining_read_no_source_compiling_does(
    provider: Provider, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ast
    import inspect

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("read at definition time")

    with monkeypatch.context() as patch:
        patch.setattr(inspect, "getsource", refuse)
        patch.setattr(ast, "parse", refuse)
        ex = provider.serverless(config=LambdaConfig(memory=512))
        tasks = [ex.task(name=f"step_{i}", retries=1)(lambda df: df) for i in range(20)]
        head = provider.bucket("data", "s0.parquet")
        for i, task in enumerate(tasks, start=1):
            head = head.transform(task).to(provider.bucket("data", f"s{i}.parquet"))
        assert all("definition" not in vars(task) for task in tasks)
        assert tasks[0].required_params == ("df",) and tasks[0].params == ("df",)
    dag = head.to_dag()
    assert all("definition" in vars(task) for task in tasks)
    assert [node.code_hash for node in dag.tasks] == [task.definition.code_hash for task in tasks]
    assert dag.task("step_1").retries == 1 and dag.task("step_1").executor.config.memory == 512
