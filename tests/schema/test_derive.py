"""Deriving schemas on empty LazyFrames: a multi-source pipeline built from the DAG layer,
misspelled columns, declared outputs the task does not produce, pyspark and undeclared
sources skipped with notes, tasks that fail on empty frames, pipelines that disagree."""

from __future__ import annotations

import polars as pl
import pytest
from schema_helpers import compiled

from glacier.dag.schema import DatasetSchema, SchemaContractError, schema_from_declaration
from glacier.schema.derive import derive_pipelines, derive_schemas

ORDERS = schema_from_declaration(
    {"order_id": pl.Int64, "customer_id": pl.Int64, "amount": pl.Float64, "placed_at": pl.Datetime},
    dataset="lake/orders.parquet",
)
CUSTOMERS = schema_from_declaration(
    {"customer_id": pl.Int64, "region": pl.String}, dataset="lake/customers.csv"
)
REPORT = schema_from_declaration({"region": pl.String, "revenue": pl.Float64}, dataset="lake/report.parquet")


def clean(orders: pl.LazyFrame) -> pl.LazyFrame:
    return orders.filter(pl.col("amount") > 0).with_columns(day=pl.col("placed_at").dt.date())


def join(orders: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
    return orders.join(customers, on="customer_id", how="left")


def report(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("region").agg(revenue=pl.col("amount").sum())


def report_typo(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("region").agg(revenue=pl.col("amout").sum())


def report_count(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.group_by("region").agg(revenue=pl.len())


def pipeline(report_task=report, name: str = "sales"):  # type: ignore[no-untyped-def]
    return compiled(
        name,
        [
            (clean, {"orders": "lake/orders.parquet"}, "lake/clean.parquet"),
            (
                join,
                {"orders": "lake/clean.parquet", "customers": "lake/customers.csv"},
                "lake/joined.parquet",
            ),
            (report_task, {"df": "lake/joined.parquet"}, "lake/report.parquet"),
        ],
    )


DECLARED = {"lake/orders.parquet": ORDERS, "lake/customers.csv": CUSTOMERS, "lake/report.parquet": REPORT}


def test_correct_multi_source_pipeline_derives_every_schema() -> None:
    result = derive_schemas(pipeline(), DECLARED)
    assert result.problems == [] and result.notes == []
    joined = result.schemas["lake/joined.parquet"]
    assert joined == DatasetSchema(
        columns={
            "order_id": "Int64",
            "customer_id": "Int64",
            "amount": "Float64",
            "placed_at": "Datetime(time_unit='us', time_zone=None)",
            "day": "Date",
            "region": "String",
        },
        declared=False,
    )
    assert result.origins["lake/joined.parquet"] == "from task 'join'"
    assert result.schemas["lake/report.parquet"] == REPORT
    result.raise_first()  # nothing to raise


def test_misspelled_column_downstream_is_one_message_naming_task_and_column() -> None:
    result = derive_schemas(pipeline(report_typo), DECLARED)
    assert len(result.problems) == 1
    message = str(result.problems[0])
    assert message.startswith(
        "Task 'report_typo' uses column 'amout', which input 'df' ('lake/joined.parquet'"
    )
    assert "from task 'join'" in message and "amount (Float64)" in message
    assert "use 'amount' (the closest existing column)" in message
    assert "return it from task 'join'" in message
    assert "Resolved plan" not in message and "\n" not in message
    with pytest.raises(SchemaContractError, match="amout"):
        result.raise_first()
    # the declared output still feeds what comes after it
    assert result.schemas["lake/report.parquet"] == REPORT


def test_misspelled_column_in_a_source_reader_points_at_the_declaration() -> None:
    def first(orders: pl.LazyFrame) -> pl.LazyFrame:
        return orders.select("order_id", "custmer_id")

    result = derive_schemas(
        compiled("p", [(first, {"orders": "lake/orders.parquet"}, "lake/o.parquet")]), DECLARED
    )
    (problem,) = result.problems
    assert "uses column 'custmer_id'" in str(problem)
    assert "'orders' ('lake/orders.parquet', declared)" in str(problem)
    assert "use 'customer_id'" in str(problem)
    assert "declare it in the schema of 'lake/orders.parquet'" in str(problem)


def test_declared_output_dtype_the_task_does_not_produce() -> None:
    result = derive_schemas(pipeline(report_count), DECLARED)
    (problem,) = result.problems
    assert str(problem).startswith(
        "Task 'report_count' does not produce the declared schema of 'lake/report.parquet': "
        "column 'revenue' is UInt32, declared Float64."
    )
    assert "pl.col('revenue').cast(pl.Float64)" in str(problem)
    assert "'revenue': pl.UInt32" in str(problem)


def test_missing_and_extra_columns_freeze_and_evolve() -> None:
    extra = schema_from_declaration({"region": pl.String}, dataset="lake/report.parquet")
    frozen = derive_schemas(pipeline(), {**DECLARED, "lake/report.parquet": extra})
    assert "column 'revenue' (Float64) is not declared" in str(frozen.problems[0])
    assert "schema_mode='evolve'" in str(frozen.problems[0])

    evolving = schema_from_declaration({"region": pl.String}, dataset="x", mode="evolve")
    result = derive_schemas(pipeline(), {**DECLARED, "lake/report.parquet": evolving})
    assert result.problems == []
    assert result.schemas["lake/report.parquet"].columns == {"region": "String", "revenue": "Float64"}

    missing = schema_from_declaration(
        {"region": pl.String, "revenue": pl.Float64, "n": pl.Int64}, dataset="x"
    )
    result = derive_schemas(pipeline(), {**DECLARED, "lake/report.parquet": missing})
    assert "column 'n' (Int64) is missing" in str(result.problems[0])


def test_dtype_misfit_is_worded_without_a_traceback() -> None:
    def bad_join(orders: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
        return orders.join(customers.with_columns(pl.col("customer_id").cast(pl.String)), on="customer_id")

    p = compiled(
        "p",
        [(bad_join, {"orders": "lake/orders.parquet", "customers": "lake/customers.csv"}, "lake/j.parquet")],
    )
    (problem,) = derive_schemas(p, DECLARED).problems
    message = str(problem)
    assert message.startswith("Task 'bad_join' does not fit its inputs' schemas: datatypes of join keys")
    assert "'customers' ('lake/customers.csv', declared): customer_id (Int64), region (String)" in message
    assert "Resolved plan" not in message


def test_column_missing_from_every_input_lists_them_all() -> None:
    def both(orders: pl.LazyFrame, customers: pl.LazyFrame) -> pl.LazyFrame:
        return orders.join(customers, on="customer_id").select("segment")

    p = compiled(
        "p", [(both, {"orders": "lake/orders.parquet", "customers": "lake/customers.csv"}, "lake/j.parquet")]
    )
    (problem,) = derive_schemas(p, DECLARED).problems
    assert "uses column 'segment', which none of its inputs provides" in str(problem)


def test_undeclared_source_is_a_note_and_downstream_is_skipped() -> None:
    result = derive_schemas(pipeline(), {"lake/orders.parquet": ORDERS})
    assert result.problems == []
    assert "lake/clean.parquet" in result.schemas
    assert "lake/joined.parquet" not in result.schemas and "lake/report.parquet" not in result.schemas
    assert [n.dataset for n in result.notes] == [
        "lake/customers.csv",
        "lake/joined.parquet",
        "lake/report.parquet",
    ]
    assert "Source 'lake/customers.csv' has no declared schema" in result.notes[0].message
    assert "schema of 'lake/customers.csv' is unknown" in result.notes[1].message


def test_pyspark_task_is_skipped_unless_its_output_is_declared() -> None:
    def spark_join(orders, customers):  # type: ignore[no-untyped-def]
        raise AssertionError("a pyspark task is never called on Polars frames")

    steps = [
        (
            spark_join,
            {"orders": "lake/orders.parquet", "customers": "lake/customers.csv"},
            "lake/joined.parquet",
        ),
        (report, {"df": "lake/joined.parquet"}, "lake/report.parquet"),
    ]
    p = compiled("p", steps, pyspark=frozenset({"spark_join"}))
    skipped = derive_schemas(p, DECLARED)
    assert skipped.problems == []
    assert "pyspark task" in skipped.notes[0].message and skipped.notes[0].task == "spark_join"
    joined = schema_from_declaration(
        {"region": pl.String, "amount": pl.Float64, "order_id": pl.Int64}, dataset="lake/joined.parquet"
    )
    declared = derive_schemas(p, {**DECLARED, "lake/joined.parquet": joined})
    assert declared.notes == [] and declared.problems == []
    assert declared.origins["lake/joined.parquet"] == "declared"


def test_a_task_failing_on_empty_frames_for_other_reasons_is_a_note() -> None:
    def top_customer(orders: pl.LazyFrame) -> pl.LazyFrame:
        best = orders.collect().sort("amount").row(-1, named=True)  # IndexError on no rows
        return orders.filter(pl.col("customer_id") == best["customer_id"])

    def scalar(orders: pl.LazyFrame) -> pl.LazyFrame:
        total = orders.select(pl.col("amount").sum()).collect().item()
        return orders.with_columns(share=pl.col("amount") / total).head(0).collect().item()  # type: ignore[no-any-return]

    for func in (top_customer, scalar):
        result = derive_schemas(
            compiled("p", [(func, {"orders": "lake/orders.parquet"}, "lake/t.parquet")]), DECLARED
        )
        assert result.problems == [], func.__name__
        (note,) = result.notes
        assert note.task == func.__name__ and "cannot be checked on empty inputs" in note.message


def test_a_task_returning_an_eager_frame_is_derived() -> None:
    def eager(orders: pl.LazyFrame) -> pl.DataFrame:
        return orders.select("order_id").collect()

    result = derive_schemas(
        compiled("p", [(eager, {"orders": "lake/orders.parquet"}, "lake/e.parquet")]), DECLARED
    )
    assert result.schemas["lake/e.parquet"].columns == {"order_id": "Int64"}


def test_functions_resolved_by_code_ref_when_not_given() -> None:
    p = pipeline()
    bare = type(p)(dag=p.dag)  # no functions: imported by module:qualname, like the cloud runtime
    assert derive_schemas(bare, DECLARED).schemas == derive_schemas(p, DECLARED).schemas


def test_downstream_pipeline_reads_upstream_schema_and_disagreement_is_reported() -> None:
    def summary(df: pl.LazyFrame) -> pl.LazyFrame:
        return df.select(pl.col("revenue").sum())

    upstream = pipeline(name="sales")
    downstream = compiled("summary", [(summary, {"df": "lake/report.parquet"}, "lake/summary.parquet")])
    first, second = derive_pipelines([upstream, downstream], {"sales": DECLARED})
    assert first.problems == [] and second.problems == []
    assert second.schemas["lake/summary.parquet"].columns == {"revenue": "Float64"}
    assert second.origins["lake/report.parquet"] == "declared in pipeline 'sales'"

    other = schema_from_declaration({"region": pl.String, "revenue": pl.Int64}, dataset="lake/report.parquet")
    _, clash = derive_pipelines(
        [upstream, downstream], {"sales": DECLARED, "summary": {"lake/report.parquet": other}}
    )
    (problem,) = clash.problems
    assert str(problem).startswith(
        "Pipelines disagree about dataset 'lake/report.parquet': pipeline 'summary' expects "
        "region (String), revenue (Int64), but it is region (String), revenue (Float64) "
        "(declared in pipeline 'sales'); they differ in: revenue."
    )
