"""Every misuse raises one GlacierError subclass whose message names the culprit (task, bucket,
parameter or pipeline) and says how to fix it. docs/errors.md lists these same cases."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from glacier import Pipeline, Provider, load_pipelines
from glacier.config import AwsConfig, LambdaConfig, LocalConfig, SparkConfig
from glacier.dag import PipelineDAG
from glacier.errors import (
    ConfigError,
    DefinitionError,
    DiscoveryError,
    FormatError,
    GraphError,
)
from tests.error_cases import Case, assert_clear_error

provider = Provider(config=LocalConfig(base_path="/nonexistent/glacier-errors"))
ex = provider.local()


@ex.task()
def clean(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@ex.task()
def enrich(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@ex.task()
def join(sales_df: pl.LazyFrame, customers_df: pl.LazyFrame) -> pl.LazyFrame:
    return sales_df.join(customers_df, on="id")


def plain_function(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


raw = provider.bucket("data", "raw.parquet")
sales = provider.bucket("data", "sales.parquet")
customers = provider.bucket("data", "customers.parquet")
mid = provider.bucket("data", "mid.parquet")
out = provider.bucket("data", "out.parquet")


def in_file(tmp_path: Path, body: str) -> Any:
    path = tmp_path / "user_pipelines.py"
    path.write_text(
        "from glacier import Pipeline, Provider\n"
        "p = Provider()\n"
        "ex = p.local()\n"
        "@ex.task\n"
        "def clean(df): return df\n"
        "raw, mid, out = (p.bucket('data', f'{n}.parquet') for n in ('raw', 'mid', 'out'))\n" + body
    )
    return load_pipelines(path)


def hand_edited_dag(mutate: Callable[[dict[str, Any]], None]) -> PipelineDAG:
    doc = raw.transform(clean).to(mid).transform(enrich).to(out).to_dag().model_dump(mode="json")
    mutate(doc)
    return PipelineDAG.model_validate(doc)


def _swap_tasks(doc: dict[str, Any]) -> None:
    doc["tasks"].reverse()


def _cycle(doc: dict[str, Any]) -> None:
    doc["tasks"][0]["inputs"] = {"df": "data/out.parquet"}


def _unknown_dataset(doc: dict[str, Any]) -> None:
    doc["tasks"][1]["inputs"] = {"df": "data/typo.parquet"}


def _bad_json_param(doc: dict[str, Any]) -> None:
    doc["tasks"][1]["inputs"] = {"frame": "data/mid.parquet"}


@ex.task(name="writer_a")
def writer_a(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@ex.task(name="writer_b")
def writer_b(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@ex.task()
def combine(left: pl.LazyFrame, right: pl.LazyFrame) -> pl.LazyFrame:
    return left


def _two_writers() -> None:
    first = raw.transform(writer_a).to(mid)
    second = sales.transform(writer_b).to(mid)
    Pipeline(left=first, right=second).transform(combine).to(out).to_dag()


def _cycle_in_dsl() -> None:
    raw.transform(clean).to(mid).transform(enrich).to(raw).to_dag()


def _mixed_providers() -> None:
    elsewhere = Provider(config=AwsConfig(region="us-east-1")).bucket("data", "remote.parquet")
    raw.transform(clean).to(elsewhere).to_dag()


def _managed_and_external() -> None:
    external = provider.bucket("data", "vendor.parquet", managed=False)
    external.transform(clean).to(out).to_dag()


def _overlap(first: str, second: str) -> None:
    one, two = provider.bucket("data", first), provider.bucket("data", second)
    raw.transform(clean).to(one).transform(enrich).to(two).to_dag()


def _task_with(**options: Any) -> Callable[[], Any]:
    return lambda: ex.task(**options)(plain_function)


def _lambda_task() -> None:
    ex.task(lambda df: df)


def _task_with_varargs() -> None:
    @ex.task
    def spread(*frames: pl.LazyFrame) -> pl.LazyFrame:
        return frames[0]


def _task_without_params() -> None:
    @ex.task
    def nothing() -> pl.LazyFrame:
        return pl.LazyFrame()


CASES: dict[str, Case] = {
    # --- chaining order -------------------------------------------------------------------
    "transform_before_source": Case(
        "Pipeline(name='etl').transform(clean)",
        lambda _: Pipeline(name="etl").transform(clean),
        DefinitionError,
        "Pipeline 'etl'.transform(clean) has nothing to read",
        "call .source(bucket) or .sources(name=bucket, ...) before .transform()",
    ),
    "to_without_transform": Case(
        "Pipeline(name='etl').source(raw).to(out)",
        lambda _: Pipeline(name="etl").source(raw).to(out),
        DefinitionError,
        "Pipeline 'etl'.to(data/out.parquet) has no transform to write",
        "call .transform(task) before .to(bucket)",
    ),
    "transform_twice_without_to": Case(
        "Pipeline(name='etl').source(raw).transform(clean).transform(enrich)",
        lambda _: Pipeline(name="etl").source(raw).transform(clean).transform(enrich),
        DefinitionError,
        ".transform() follows .transform(clean) without a .to()",
        "write the result first: .transform(clean).to(bucket)",
    ),
    "incomplete_step_at_to_dag": Case(
        "Pipeline(name='etl').source(raw).transform(clean).to_dag()",
        lambda _: Pipeline(name="etl").source(raw).transform(clean).to_dag(),
        DefinitionError,
        "Pipeline 'etl' has an incomplete step: .transform(clean) has no .to()",
        "complete it with .transform(clean).to(bucket)",
    ),
    "pipeline_without_steps": Case(
        "Pipeline(name='etl').source(raw).to_dag()",
        lambda _: Pipeline(name="etl").source(raw).to_dag(),
        DefinitionError,
        "Pipeline 'etl' has no steps",
        "add .transform(task).to(bucket) after the source",
    ),
    "run_bucket_without_lineage": Case(
        "raw.run()",
        lambda _: raw.run(),
        DefinitionError,
        "Cannot run bucket 'data/raw.parquet': it has no lineage",
        "run the bucket that .to() returns, which carries the lineage",
    ),
    "visualize_bucket_without_lineage": Case(
        "raw.visualize()",
        lambda _: raw.visualize(),
        DefinitionError,
        "Cannot visualize bucket 'data/raw.parquet'",
        "visualize the bucket that .to() returns",
    ),
    "unfinished_pipeline_as_source": Case(
        "Pipeline(name='b').source(Pipeline(name='a').source(raw))",
        lambda _: Pipeline(name="b").source(Pipeline(name="a").source(raw)),
        DefinitionError,
        "Pipeline 'a' has written no bucket yet",
        "finish it with .transform(task).to(bucket) first",
    ),
    # --- sources and parameters ----------------------------------------------------------
    "one_source_for_two_parameters": Case(
        "raw.transform(join)  # seed 001's ERROR! case",
        lambda _: raw.transform(join),
        DefinitionError,
        "Task 'join' takes 2 parameters (sales_df, customers_df) but receives one source "
        "('data/raw.parquet')",
        "start a multi-source step: Pipeline(sales_df=..., customers_df=...).transform(join)",
    ),
    "source_names_do_not_match_parameters": Case(
        "Pipeline(sales=sales, customers=customers).transform(join)",
        lambda _: Pipeline(sales=sales, customers=customers).transform(join),
        DefinitionError,
        "Task 'join' parameters ['customers_df', 'sales_df'] do not match sources ['customers', 'sales']",
        "name the sources after the parameters: sales_df=<bucket>, customers_df=<bucket>",
    ),
    "extra_source": Case(
        "Pipeline(name='x').sources(df=raw, extra=sales).transform(clean)",
        lambda _: Pipeline(name="x").sources(df=raw, extra=sales).transform(clean),
        DefinitionError,
        "Task 'clean' parameters ['df'] do not match sources ['df', 'extra']",
        "name the sources after the parameters: df=<bucket>",
    ),
    "no_sources": Case(
        "Pipeline(name='x').sources()",
        lambda _: Pipeline(name="x").sources(),
        DefinitionError,
        "Pipeline 'x'.sources() got no buckets",
        ".sources(sales_df=sales, customers_df=customers)",
    ),
    "reserved_word_as_source_name": Case(
        "Pipeline(name='x').sources(config=raw)",
        lambda _: Pipeline(name="x").sources(config=raw),
        DefinitionError,
        "'config' is reserved and cannot name a source",
        "rename the task parameter and source (e.g. 'config_df')",
    ),
    "bucket_passed_as_reserved_keyword": Case(
        "Pipeline(description=raw, df=sales)",
        lambda _: Pipeline(description=raw, df=sales),  # type: ignore[arg-type]
        DefinitionError,
        "Pipeline(description=...) got a bucket, but 'description' is reserved",
        "rename that source and the task parameter (e.g. 'description_df')",
    ),
    "description_not_text": Case(
        "Pipeline(name='x', description=5)",
        lambda _: Pipeline(name="x", description=5),  # type: ignore[arg-type]
        DefinitionError,
        "Pipeline 'x' has description=5",
        "pass the description as a string",
    ),
    "pipeline_without_name_or_sources": Case(
        "Pipeline()",
        lambda _: Pipeline(),
        DefinitionError,
        "Pipeline() needs a name or at least one source",
        "Pipeline(name='my_etl')",
    ),
    "not_a_bucket_as_target": Case(
        "raw.transform(clean).to('data/out.parquet')",
        lambda _: raw.transform(clean).to("data/out.parquet"),
        DefinitionError,
        "Task 'clean' .to() got 'data/out.parquet', which is not a bucket",
        "pass a bucket from provider.bucket(...)",
    ),
    "not_a_bucket_as_source": Case(
        "Pipeline(name='x').source('s3://data/raw.parquet')",
        lambda _: Pipeline(name="x").source("s3://data/raw.parquet"),
        DefinitionError,
        "Pipeline 'x'.source() got 's3://data/raw.parquet', which is not a bucket",
        "pass a bucket from provider.bucket(...)",
    ),
    # --- tasks -------------------------------------------------------------------------------
    "undecorated_function": Case(
        "raw.transform(plain_function)",
        lambda _: raw.transform(plain_function),  # type: ignore[arg-type]
        DefinitionError,
        "Bucket 'data/raw.parquet'.transform() got the plain function 'plain_function'",
        "decorate it with @executor.task()",
    ),
    "non_callable_task": Case(
        "ex.task(42)",
        lambda _: ex.task(42),  # type: ignore[call-overload]
        DefinitionError,
        "@task was applied to 42, which is not callable",
        "decorate a function",
    ),
    "not_a_task_in_transform": Case(
        "raw.transform('clean')",
        lambda _: raw.transform("clean"),  # type: ignore[arg-type]
        DefinitionError,
        "Bucket 'data/raw.parquet'.transform() got 'clean', which is not a task",
        "pass a function decorated with @executor.task()",
    ),
    "unnamed_lambda_task": Case(
        "ex.task(lambda df: df)",
        lambda _: _lambda_task(),
        DefinitionError,
        "A lambda was made a task without a name",
        "executor.task(name='clean')(lambda df: ...)",
    ),
    "bad_task_name": Case(
        "@ex.task(name='clean data!')",
        lambda _: _task_with(name="clean data!")(),
        DefinitionError,
        "Task name 'clean data!' cannot be used to name cloud resources",
        "use 1-64 letters, digits, '_' or '-'",
    ),
    "negative_retries": Case(
        "@ex.task(retries=-1)",
        lambda _: _task_with(retries=-1)(),
        DefinitionError,
        "Task 'plain_function' has retries=-1",
        "pass a whole number of retries, 0 or more",
    ),
    "zero_timeout": Case(
        "@ex.task(timeout=0)",
        lambda _: _task_with(timeout=0)(),
        DefinitionError,
        "Task 'plain_function' has timeout=0",
        "pass a timeout in seconds greater than 0",
    ),
    "infinite_timeout": Case(
        "@ex.task(timeout=float('inf'))",
        lambda _: _task_with(timeout=float("inf"))(),
        DefinitionError,
        "Task 'plain_function' has timeout=inf",
        "pass a timeout in seconds greater than 0",
    ),
    "cache_not_bool": Case(
        "@ex.task(cache='yes')",
        lambda _: _task_with(cache="yes")(),
        DefinitionError,
        "Task 'plain_function' has cache='yes'",
        "pass cache=True or False",
    ),
    "task_config_not_plain_data": Case(
        "@ex.task(callback=object())",
        lambda _: _task_with(callback=object())(),
        DefinitionError,
        "Task 'plain_function' has a config value that is not plain data: callback is of type object",
        "pass only strings, numbers, booleans, None, lists and dicts with string keys",
    ),
    "task_config_tuple": Case(
        "@ex.task(sizes=(1, 2))",
        lambda _: _task_with(sizes=(1, 2))(),
        DefinitionError,
        "sizes is of type tuple (use a list)",
        "lists and dicts with string keys",
    ),
    "task_config_number_key": Case(
        "@ex.task(limits={'a': {1: 2}})",
        lambda _: _task_with(limits={"a": {1: 2}})(),
        DefinitionError,
        "limits['a'] has the key 1 (int; keys must be strings)",
        "lists and dicts with string keys",
    ),
    "task_config_nan": Case(
        "@ex.task(threshold=float('nan'))",
        lambda _: _task_with(threshold=float("nan"))(),
        DefinitionError,
        "threshold is nan (JSON has no NaN or infinity)",
        "pass only strings, numbers",
    ),
    "task_with_varargs": Case(
        "@ex.task def spread(*frames)",
        lambda _: _task_with_varargs(),
        DefinitionError,
        "Task 'spread' has parameter '*frames', which cannot receive a named source",
        "give the task one ordinary parameter per source",
    ),
    "task_without_parameters": Case(
        "@ex.task def nothing()",
        lambda _: _task_without_params(),
        DefinitionError,
        "Task 'nothing' takes no parameters",
        "add a parameter for the data it reads",
    ),
    # --- graph shape -----------------------------------------------------------------------
    "cycle": Case(
        "raw.transform(clean).to(mid).transform(enrich).to(raw)",
        lambda _: _cycle_in_dsl(),
        GraphError,
        "The pipeline has a cycle: ",
        "make sure no task reads (directly or through other tasks) the dataset it writes",
    ),
    "two_tasks_write_one_dataset": Case(
        "raw.transform(writer_a).to(mid); sales.transform(writer_b).to(mid) in one pipeline",
        lambda _: _two_writers(),
        GraphError,
        "Tasks 'writer_a' and 'writer_b' both write dataset 'data/mid.parquet'",
        "give each task its own output bucket path",
    ),
    "task_reads_its_own_output": Case(
        "raw.transform(clean).to(raw)",
        lambda _: raw.transform(clean).to(raw).to_dag(),
        GraphError,
        "Task 'clean' reads its own output 'data/raw.parquet'",
        "write the result to a different bucket path",
    ),
    "buckets_from_two_providers": Case(
        "raw (LocalConfig) .transform(clean).to(bucket of an AwsConfig provider)",
        lambda _: _mixed_providers(),
        DefinitionError,
        "Pipeline 'pipeline_remote_parquet' mixes buckets from providers with different storage configs",
        "create every bucket of one pipeline from the same Provider",
    ),
    "managed_not_bool": Case(
        "provider.bucket('data', 'vendor.parquet', managed='no')",
        lambda _: provider.bucket("data", "vendor.parquet", managed="no"),  # type: ignore[arg-type]
        DefinitionError,
        "Dataset 'data/vendor.parquet' has managed='no'",
        "pass managed=True (Glacier creates the bucket) or managed=False",
    ),
    "bucket_both_managed_and_external": Case(
        "provider.bucket('data', 'vendor.parquet', managed=False) with managed 'data' buckets",
        lambda _: _managed_and_external(),
        DefinitionError,
        "Bucket 'data' is declared both managed and external",
        "declare every path of one bucket with the same managed= setting",
    ),
    "dataset_inside_a_directory_dataset": Case(
        "raw.transform(clean).to(rep/).transform(enrich).to(rep/summary.parquet)",
        lambda _: _overlap("rep/", "rep/summary.parquet"),
        DefinitionError,
        "Dataset 'data/rep/summary.parquet' is inside directory dataset 'data/rep/'",
        "move it out of 'rep/'",
    ),
    "file_and_directory_at_one_location": Case(
        "raw.transform(clean).to(rep).transform(enrich).to(rep/)",
        lambda _: _overlap("rep", "rep/"),
        DefinitionError,
        "Datasets 'data/rep' (a file) and 'data/rep/' (a directory) are one location",
        "a file and a directory cannot share a name",
    ),
    "dataset_under_a_file_dataset": Case(
        "raw.transform(clean).to(a.parquet).transform(enrich).to(a.parquet/b.csv)",
        lambda _: _overlap("a.parquet", "a.parquet/b.csv"),
        DefinitionError,
        "Dataset 'data/a.parquet/b.csv' is under dataset 'data/a.parquet', which is a file",
        "a path cannot be both a file and a folder",
    ),
    "json_dag_out_of_order": Case(
        "PipelineDAG.model_validate(json with tasks reordered)",
        lambda _: hand_edited_dag(_swap_tasks),
        GraphError,
        "lists task 'enrich' before 'clean', which writes its input 'data/mid.parquet'",
        "build the DAG with glacier.dag.build_dag",
    ),
    "json_dag_with_cycle": Case(
        "PipelineDAG.model_validate(json where the first task reads the last output)",
        lambda _: hand_edited_dag(_cycle),
        GraphError,
        "The pipeline has a cycle: ",
        "make sure no task reads",
    ),
    "json_dag_unknown_dataset": Case(
        "PipelineDAG.model_validate(json naming an undeclared dataset)",
        lambda _: hand_edited_dag(_unknown_dataset),
        GraphError,
        "Task 'enrich' parameter 'df' reads unknown dataset 'data/typo.parquet'",
        "declare the dataset in the DAG's datasets",
    ),
    "json_dag_param_mismatch": Case(
        "PipelineDAG.model_validate(json feeding parameter 'frame' to enrich(df))",
        lambda _: hand_edited_dag(_bad_json_param),
        GraphError,
        "Task 'enrich' takes (df) but no source for parameter(s) df; source(s) frame match no parameter",
        "name each source after the task parameter that receives it",
    ),
    # --- names, paths and formats ----------------------------------------------------------
    "unknown_format": Case(
        "provider.bucket('data', 'report.xlsx')",
        lambda _: provider.bucket("data", "report.xlsx"),
        FormatError,
        "Unknown format '.xlsx' for bucket 'data' path 'report.xlsx'",
        "use one of .arrow, .csv, .feather, .ipc, .jsonl, .ndjson, .parquet, .pq",
    ),
    "invalid_bucket_name": Case(
        "provider.bucket('Data_Lake', 'raw.parquet')",
        lambda _: provider.bucket("Data_Lake", "raw.parquet"),
        DefinitionError,
        "Bucket name 'Data_Lake' is not a valid S3 bucket name",
        "use 3-63 lowercase letters, digits, dots or hyphens",
    ),
    "bucket_name_not_a_string": Case(
        "provider.bucket(42, 'raw.parquet')",
        lambda _: provider.bucket(42, "raw.parquet"),  # type: ignore[arg-type]
        DefinitionError,
        "Bucket name 42 is not a valid S3 bucket name: it is not a string",
        "use 3-63 lowercase letters",
    ),
    "bucket_name_too_short": Case(
        "provider.bucket('ab', 'raw.parquet')",
        lambda _: provider.bucket("ab", "raw.parquet"),
        DefinitionError,
        "Bucket name 'ab' is not a valid S3 bucket name: it has 2 characters (S3 allows 3 to 63)",
        "use 3-63 lowercase letters",
    ),
    "bucket_name_too_long": Case(
        "provider.bucket('a' * 64, 'raw.parquet')",
        lambda _: provider.bucket("a" * 64, "raw.parquet"),
        DefinitionError,
        "it has 64 characters (S3 allows 3 to 63)",
        "use 3-63 lowercase letters",
    ),
    "bucket_name_edge_not_alphanumeric": Case(
        "provider.bucket('data-', 'raw.parquet')",
        lambda _: provider.bucket("data-", "raw.parquet"),
        DefinitionError,
        "Bucket name 'data-' is not a valid S3 bucket name: it must begin and end with a letter or digit",
        "starting and ending with a letter or digit",
    ),
    "bucket_name_adjacent_periods": Case(
        "provider.bucket('data..lake', 'raw.parquet')",
        lambda _: provider.bucket("data..lake", "raw.parquet"),
        DefinitionError,
        "Bucket name 'data..lake' is not a valid S3 bucket name: it contains two adjacent periods",
        "separate the parts with a single period",
    ),
    "bucket_name_hyphen_next_to_period": Case(
        "provider.bucket('a.-b', 'raw.parquet')",
        lambda _: provider.bucket("a.-b", "raw.parquet"),
        DefinitionError,
        "Bucket name 'a.-b' is not a valid S3 bucket name: it has a hyphen next to a period",
        "drop the hyphen next to the period",
    ),
    "bucket_name_ip_address": Case(
        "provider.bucket('192.168.1.1', 'raw.parquet')",
        lambda _: provider.bucket("192.168.1.1", "raw.parquet"),
        DefinitionError,
        "Bucket name '192.168.1.1' is not a valid S3 bucket name: it is formatted as an IP address",
        "use a name with letters",
    ),
    "bucket_name_prefix_xn": Case(
        "provider.bucket('xn--abc', 'raw.parquet')",
        lambda _: provider.bucket("xn--abc", "raw.parquet"),
        DefinitionError,
        "Bucket name 'xn--abc' is not a valid S3 bucket name: it starts with 'xn--' (S3 reserves it",
        "choose a name that does not start with 'xn--'",
    ),
    "bucket_name_prefix_sthree": Case(
        "provider.bucket('sthree-x', 'raw.parquet')",
        lambda _: provider.bucket("sthree-x", "raw.parquet"),
        DefinitionError,
        "Bucket name 'sthree-x' is not a valid S3 bucket name: it starts with 'sthree-'",
        "choose a name that does not start with 'sthree-'",
    ),
    "bucket_name_prefix_amzn_s3_demo": Case(
        "provider.bucket('amzn-s3-demo-x', 'raw.parquet')",
        lambda _: provider.bucket("amzn-s3-demo-x", "raw.parquet"),
        DefinitionError,
        "it starts with 'amzn-s3-demo-' (S3 reserves it for documentation examples)",
        "does not start with 'amzn-s3-demo-'",
    ),
    "bucket_name_suffix_s3alias": Case(
        "provider.bucket('x-s3alias', 'raw.parquet')",
        lambda _: provider.bucket("x-s3alias", "raw.parquet"),
        DefinitionError,
        "Bucket name 'x-s3alias' is not a valid S3 bucket name: it ends with '-s3alias' "
        "(S3 reserves it for access point aliases)",
        "does not end with '-s3alias'",
    ),
    "bucket_name_suffix_ol_s3": Case(
        "provider.bucket('x--ol-s3', 'raw.parquet')",
        lambda _: provider.bucket("x--ol-s3", "raw.parquet"),
        DefinitionError,
        "it ends with '--ol-s3' (S3 reserves it for Object Lambda Access Point aliases)",
        "does not end with '--ol-s3'",
    ),
    "bucket_name_suffix_mrap": Case(
        "provider.bucket('x.mrap', 'raw.parquet')",
        lambda _: provider.bucket("x.mrap", "raw.parquet"),
        DefinitionError,
        "it ends with '.mrap' (S3 reserves it for Multi-Region Access Points)",
        "does not end with '.mrap'",
    ),
    "bucket_name_suffix_x_s3": Case(
        "provider.bucket('x--x-s3', 'raw.parquet')",
        lambda _: provider.bucket("x--x-s3", "raw.parquet"),
        DefinitionError,
        "it ends with '--x-s3' (S3 reserves it for directory buckets)",
        "does not end with '--x-s3'",
    ),
    "bucket_name_suffix_table_s3": Case(
        "provider.bucket('x--table-s3', 'raw.parquet')",
        lambda _: provider.bucket("x--table-s3", "raw.parquet"),
        DefinitionError,
        "it ends with '--table-s3' (S3 reserves it for table buckets)",
        "does not end with '--table-s3'",
    ),
    "empty_path": Case(
        "provider.bucket('data', '')",
        lambda _: provider.bucket("data", ""),
        DefinitionError,
        "Bucket 'data' needs a path inside it, got ''",
        "pass path='folder/name.parquet'",
    ),
    "dot_dot_in_path": Case(
        "provider.bucket('data', '../secrets/raw.parquet')",
        lambda _: provider.bucket("data", "../secrets/raw.parquet"),
        DefinitionError,
        "Bucket 'data' path '../secrets/raw.parquet' contains '.' or '..'",
        "use a plain relative key",
    ),
    "bad_pipeline_name": Case(
        "raw.transform(clean).to(out).with_name('daily etl')",
        lambda _: raw.transform(clean).to(out).with_name("daily etl"),
        DefinitionError,
        "Pipeline name 'daily etl' cannot be used to name cloud resources",
        "use 1-80 letters, digits, '_' or '-'",
    ),
    "pipeline_config_not_a_dict": Case(
        "Pipeline(name='etl', config='nightly')",
        lambda _: Pipeline(name="etl", config="nightly"),  # type: ignore[arg-type]
        DefinitionError,
        "Pipeline 'etl' got config='nightly'",
        "pass config as a dict",
    ),
    "unknown_run_mode": Case(
        "raw.transform(clean).to(out).run(mode='turbo')",
        lambda _: raw.transform(clean).to(out).with_name("etl").run(mode="turbo"),
        DefinitionError,
        "Unknown run mode 'turbo' for pipeline 'etl'",
        "use one of: local, analyze, generate, cloud",
    ),
    "unknown_run_option": Case(
        "raw.transform(clean).to(out).run(mode='local', quiet=True)",
        lambda _: raw.transform(clean).to(out).with_name("etl").run(mode="local", quiet=True),
        DefinitionError,
        "run(mode='local') of pipeline 'etl' got unknown option(s) quiet",
        "mode 'local' takes: storage, state_dir",
    ),
    # --- configuration -------------------------------------------------------------------
    "lambda_memory_too_small": Case(
        "LambdaConfig(memory=64)",
        lambda _: LambdaConfig(memory=64),
        ConfigError,
        "LambdaConfig.memory=64",
        "set memory to a whole number from 128 to 10240 MB",
    ),
    "lambda_timeout_too_long": Case(
        "LambdaConfig(timeout=901)",
        lambda _: LambdaConfig(timeout=901),
        ConfigError,
        "LambdaConfig.timeout=901",
        "set timeout to a whole number from 1 to 900 seconds",
    ),
    "lambda_ephemeral_storage_too_small": Case(
        "LambdaConfig(ephemeral_storage=256)",
        lambda _: LambdaConfig(ephemeral_storage=256),
        ConfigError,
        "LambdaConfig.ephemeral_storage=256",
        "set ephemeral_storage to a whole number from 512 to 10240",
    ),
    "lambda_unknown_architecture": Case(
        "LambdaConfig(architecture='sparc')",
        lambda _: LambdaConfig(architecture="sparc"),  # type: ignore[arg-type]
        ConfigError,
        "LambdaConfig.architecture='sparc'",
        "set architecture to one of 'arm64', 'x86_64'",
    ),
    "lambda_misspelled_field": Case(
        "LambdaConfig(memroy=2048)",
        lambda _: LambdaConfig(memroy=2048),  # type: ignore[call-arg]
        ConfigError,
        "LambdaConfig.memroy=2048: Extra inputs are not permitted",
        "remove 'memroy' (LambdaConfig accepts: memory, timeout",
    ),
    "spark_one_worker": Case(
        "SparkConfig(workers=1)",
        lambda _: SparkConfig(workers=1),
        ConfigError,
        "SparkConfig.workers=1",
        "set workers to a whole number from 2 to 299",
    ),
    "spark_unknown_worker_type": Case(
        "SparkConfig(worker_type='G.3X')",
        lambda _: SparkConfig(worker_type="G.3X"),  # type: ignore[arg-type]
        ConfigError,
        "SparkConfig.worker_type='G.3X'",
        "set worker_type to one of 'G.1X', 'G.2X', 'G.4X', 'G.8X', 'G.025X'",
    ),
    "spark_unknown_engine": Case(
        "SparkConfig(engine='databricks')",
        lambda _: SparkConfig(engine="databricks"),  # type: ignore[arg-type]
        ConfigError,
        "SparkConfig.engine='databricks'",
        "set engine to one of 'glue', 'emr-serverless'",
    ),
    "aws_bad_region": Case(
        "AwsConfig(region='mars-north-1x')",
        lambda _: AwsConfig(region="mars-north-1x"),
        ConfigError,
        "AwsConfig.region='mars-north-1x'",
        "region: must look like an AWS region such as 'us-east-1'",
    ),
    "aws_endpoint_without_scheme": Case(
        "AwsConfig(endpoint_url='localhost:5000')",
        lambda _: AwsConfig(endpoint_url="localhost:5000"),
        ConfigError,
        "AwsConfig.endpoint_url='localhost:5000'",
        "endpoint_url: must start with http:// or https://",
    ),
    "aws_reserved_tag": Case(
        "AwsConfig(tags={'aws:owner': 'me'})",
        lambda _: AwsConfig(tags={"aws:owner": "me"}),
        ConfigError,
        "tag key 'aws:owner'",
        "must be 1-128 characters and not start with 'aws:'",
    ),
    "local_empty_base_path": Case(
        "LocalConfig(base_path=' ')",
        lambda _: LocalConfig(base_path=" "),
        ConfigError,
        "LocalConfig.base_path=' '",
        "base_path: must be a directory path",
    ),
    "provider_config_not_a_config": Case(
        "Provider(config='us-east-1')",
        lambda _: Provider(config="us-east-1"),  # type: ignore[arg-type]
        ConfigError,
        "Provider got config='us-east-1'",
        "pass Provider(config=AwsConfig(region=...))",
    ),
    "executor_given_the_wrong_config": Case(
        "provider.serverless(config=SparkConfig())",
        lambda _: provider.serverless(config=SparkConfig()),  # type: ignore[arg-type]
        ConfigError,
        "provider.serverless() got config=SparkConfig(...), which is not a LambdaConfig",
        "pass config=LambdaConfig(...)",
    ),
    # --- discovery -------------------------------------------------------------------------
    "duplicate_pipeline_names": Case(
        "two pipelines named 'etl' in one module",
        lambda tmp: in_file(
            tmp,
            "a = Pipeline(name='etl').source(raw).transform(clean).to(mid)\n"
            "b = mid.transform(clean).to(out).with_name('etl')\n",
        ),
        DiscoveryError,
        "user_pipelines defines more than one pipeline named 'etl'",
        "give each pipeline a unique name",
    ),
    "module_level_unfinished_transform": Case(
        "dangling = raw.transform(clean)  # at module level",
        lambda tmp: in_file(tmp, "dangling = raw.transform(clean)\n"),
        DefinitionError,
        "'dangling' in user_pipelines is a .transform(clean) never completed by .to()",
        "finish it: .transform(clean).to(bucket)",
    ),
    "missing_pipeline_file": Case(
        "glacier graph does_not_exist.py",
        lambda tmp: load_pipelines(tmp / "does_not_exist.py"),
        DiscoveryError,
        "does_not_exist.py' does not exist",
        "pass the path of a Python file that defines pipelines",
    ),
    "syntax_error_in_pipeline_file": Case(
        "a pipeline file with a syntax error",
        lambda tmp: in_file(tmp, "def oops(:\n"),
        DiscoveryError,
        "user_pipelines.py' has a syntax error at line 7",
        "correct the syntax and try again",
    ),
    "pipeline_file_raises": Case(
        "a pipeline file that raises when imported",
        lambda tmp: in_file(tmp, "open('/nonexistent/input.csv')\n"),
        DiscoveryError,
        "user_pipelines.py' failed to load: FileNotFoundError",
        "a pipeline file should only define buckets, tasks and pipelines",
    ),
    "unknown_module": Case(
        "glacier graph no_such_module_xyz",
        lambda _: load_pipelines("no_such_module_xyz"),
        DiscoveryError,
        "Could not import pipeline module 'no_such_module_xyz'",
        "pass a path to a .py file",
    ),
    "unknown_pipeline_selected": Case(
        "glacier graph file.py --pipeline nightly",
        lambda tmp: in_file(tmp, "a = raw.transform(clean).to(mid).with_name('daily')\n").select("nightly"),
        DiscoveryError,
        "No pipeline named 'nightly' in user_pipelines",
        "pass --pipeline with one of: daily",
    ),
    "two_pipelines_write_one_dataset": Case(
        "two pipelines in one module writing one dataset with different tasks",
        lambda tmp: in_file(
            tmp,
            "@ex.task\ndef other(df): return df\n"
            "a = raw.transform(clean).to(out)\n"
            "b = mid.transform(other).to(out)\n",
        ),
        GraphError,
        "Pipelines 'a' (task 'clean') and 'b' (task 'other') both write dataset 'data/out.parquet'",
        "write each dataset from one step only",
    ),
    "datasets_of_two_pipelines_overlap": Case(
        "pipeline a writes rep/, pipeline b writes rep/summary.parquet, in one module",
        lambda tmp: in_file(
            tmp,
            "a = raw.transform(clean).to(p.bucket('data', 'rep/')).with_name('a')\n"
            "b = mid.transform(clean).to(p.bucket('data', 'rep/summary.parquet')).with_name('b')\n",
        ),
        DefinitionError,
        "Dataset 'data/rep/summary.parquet' of pipeline 'b' is inside directory dataset 'data/rep/' "
        "of pipeline 'a'",
        "publishing the directory replaces everything under it",
    ),
    "pipelines_read_each_other": Case(
        "a reads what b writes and b reads what a writes",
        lambda tmp: in_file(
            tmp,
            "a = Pipeline(name='a').source(raw).transform(clean).to(mid)\n"
            "@ex.task\ndef back(df): return df\n"
            "b = Pipeline(name='b').source(mid).transform(back).to(raw)\n",
        ),
        GraphError,
        "read each other's outputs in a cycle",
        "break the cycle so that some pipeline reads only source data",
    ),
}


@pytest.mark.parametrize("case_id", sorted(CASES))
def test_bad_input_raises_a_clear_glacier_error(case_id: str, tmp_path: Path) -> None:
    assert_clear_error(case_id, CASES[case_id], tmp_path)


def test_there_are_at_least_25_distinct_bad_inputs() -> None:
    assert len(CASES) >= 25
    assert len({case.bad_input for case in CASES.values()}) == len(CASES)


def test_every_case_is_listed_in_the_docs() -> None:
    doc = (Path(__file__).resolve().parent.parent / "docs" / "errors.md").read_text()
    missing = [case_id for case_id in CASES if f"`{case_id}`" not in doc]
    assert not missing


def test_every_test_the_docs_name_exists() -> None:
    """docs/errors.md names the test of each case; a renamed or deleted test must not leave
    the table pointing at nothing."""
    root = Path(__file__).resolve().parent.parent
    doc = (root / "docs" / "errors.md").read_text()
    named = set(re.findall(r"`(?:[\w/.]*::)?(test_\w+)`", doc))  # `test_x`, `file.py::test_x`, `::test_x`
    defined = {
        match
        for path in (root / "tests").rglob("*.py")
        for match in re.findall(r"^\s*def (test_\w+)\(", path.read_text(), flags=re.MULTILINE)
    }
    assert named, "the docs name no tests"
    assert sorted(named - defined) == []
