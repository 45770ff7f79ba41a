"""Deploys that never lose data, under Pulumi's mocks (real pulumi + pulumi-aws v7): data
buckets retained on delete, lifecycle rules for staging keys and old artifacts, an artifacts
bucket that cannot collide and empties itself on destroy, one layer per program, names that
fit AWS's limits and never collide, and task timeouts that agree with their functions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from deploy_helpers import CONFIGURED, REPO, plan, write_project

from glacier.dag.contract import CompiledPipeline
from glacier.deploy import naming
from glacier.deploy.buckets import DataBuckets, DataBucketsArgs
from glacier.deploy.component import DeployOptions, PipelineDeployment, PipelineDeploymentArgs
from glacier.deploy.plan import PlanResult, render_text, run_under_mocks
from glacier.deploy.program_artifacts import ProgramArtifacts, ProgramArtifactsArgs
from glacier.dsl import load_pipelines
from glacier.errors import DeploymentError

JOIN = str(REPO / "examples/seed_000/example3_join.py")
OPTIONS = DeployOptions(build_layer=False)
BUCKET = "aws:s3/bucket:Bucket"
LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
ARTIFACTS = "artifacts-us-east-1-bucket"
DATA_RESOURCES = [
    "data-buckets-data",
    *(
        f"data-buckets-data-{s}"
        for s in ("public-access-block", "encryption", "versioning", "tls-only", "lifecycle")
    ),
]


@pytest.fixture(scope="module")
def join() -> PlanResult:
    return plan(JOIN, options=OPTIONS)


def test_data_buckets_and_their_settings_are_retained_on_delete(join: PlanResult) -> None:
    for name in DATA_RESOURCES:
        assert join.get(name).retain_on_delete, name
    assert "data-buckets-data  (parent: data-buckets, retained on delete)" in render_text(join)
    # The artifacts bucket is the program's to rebuild: deleted, and emptied first.
    artifacts = join.get(ARTIFACTS)
    assert not artifacts.retain_on_delete and artifacts.inputs["forceDestroy"] is True
    assert "forceDestroy" not in join.get("data-buckets-data").inputs
    opted_out = plan(JOIN, options=DeployOptions(build_layer=False, retain_data_buckets=False))
    assert not any(opted_out.get(name).retain_on_delete for name in DATA_RESOURCES)


def test_the_retain_setting_is_read_from_pulumi_config() -> None:
    from pulumi.runtime import config as pulumi_config

    from glacier.deploy import program

    def options(values: dict[str, str]) -> DeployOptions:
        token = pulumi_config.CONFIG.set({f"glacier:{k}": v for k, v in values.items()})
        try:
            return program.read_config().options
        finally:
            pulumi_config.CONFIG.reset(token)

    chosen = options({"pipelines": JOIN, "retainDataBuckets": "false", "artifactsNoncurrentDays": "3"})
    assert (chosen.retain_data_buckets, chosen.artifacts_noncurrent_days) == (False, 3)
    default = options({"pipelines": JOIN})
    assert (default.retain_data_buckets, default.artifacts_noncurrent_days) == (True, 7)


def test_data_bucket_expires_staging_keys_beside_every_dataset(join: PlanResult) -> None:
    rules = {r["id"]: r for r in join.get("data-buckets-data-lifecycle").inputs["rules"]}
    # example3_join's datasets live in data/raw/ and data/processed/ (and data/output/).
    from glacier.dsl import load_pipelines

    folders = {
        ds.path.rstrip("/").rpartition("/")[0]
        for p in load_pipelines(JOIN).pipelines
        for ds in p.dag.datasets
        if ds.bucket == "data"
    }
    staging = [r for r in rules.values() if r["id"].startswith("glacier-staging-")]
    expected = sorted(f"{f}/.glacier-tmp-" if f else ".glacier-tmp-" for f in folders)
    assert sorted(r["filter"]["prefix"] for r in staging) == expected
    for rule in staging:
        assert rule["status"] == "Enabled"
        assert rule["expiration"] == {"days": 1}
        assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 1}
    housekeeping = rules["glacier-housekeeping"]
    assert housekeeping["filter"] == {"prefix": ""}
    assert housekeeping["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 3}
    assert housekeeping["expiration"] == {"expiredObjectDeleteMarker": True}
    assert "noncurrentVersionExpiration" not in housekeeping  # earlier contents of datasets stay
    # The same rules whichever pipelines are selected: the bucket does not change.
    selected = plan(JOIN, pipeline="join_step2", options=OPTIONS)
    assert (
        selected.get("data-buckets-data-lifecycle").inputs == join.get("data-buckets-data-lifecycle").inputs
    )


def test_staging_rule_prefixes_match_the_writers_staging_keys() -> None:
    from glacier.deploy.lifecycle import staging_prefixes

    assert staging_prefixes(["raw/a.parquet", "raw/b.csv", "top.parquet", "out/parts/"]) == (
        ".glacier-tmp-",
        "out/.glacier-tmp-",
        "raw/.glacier-tmp-",
    )
    # Writers stage a dataset's result under a key beginning with the staging mark, in the
    # dataset's own folder (glacier/io/write.py): the one mark the IAM policies grant too.
    from glacier.deploy.iam import STAGING_MARK

    assert STAGING_MARK == ".glacier-tmp-"


def test_artifacts_bucket_lifecycle_and_ordering(join: PlanResult) -> None:
    (rule,) = join.get(f"{ARTIFACTS}-lifecycle").inputs["rules"]
    assert rule["noncurrentVersionExpiration"] == {"noncurrentDays": 7}
    assert rule["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 1}
    for bucket in ("data-buckets-data", ARTIFACTS):
        policy, block = join.get(f"{bucket}-tls-only"), join.get(f"{bucket}-public-access-block")
        assert block.urn in policy.depends_on  # S3 refuses a policy while the block is applied
        assert join.get(f"{bucket}-versioning").urn in join.get(f"{bucket}-lifecycle").depends_on


def test_artifacts_bucket_name_keeps_stacks_accounts_and_regions_apart() -> None:
    name = naming.artifacts_bucket_name
    base = name("glacier", "prod", "123456789012", "us-east-1")
    assert base == "glacier-prod-artifacts-123456789012-us-east-1"
    others = {
        name("glacier", "dev", "123456789012", "us-east-1"),
        name("glacier", "prod", "210987654321", "us-east-1"),
        name("glacier", "prod", "123456789012", "eu-west-1"),
        name("other", "prod", "123456789012", "us-east-1"),
        name("glacier", "prod", "123456789012", "us-east-1", prefix="acme"),
    }
    assert base not in others and len(others) == 5
    long = name("A_Very_Long_Project" * 4, "stack.with.dots" * 3, "123456789012", "ap-southeast-2")
    assert len(long) <= 63 and long.endswith("-artifacts-123456789012-ap-southeast-2")
    assert long == name("A_Very_Long_Project" * 4, "stack.with.dots" * 3, "123456789012", "ap-southeast-2")
    assert all(c.islower() or c.isdigit() or c == "-" for c in long)


def test_one_layer_for_every_pipeline_of_the_program(tmp_path: Path) -> None:
    two_pipelines = TWO_PIPELINES.replace('name="b-c"', 'name="first"').replace('name="c"', 'name="second"')
    result = plan(str(write_project(tmp_path, two_pipelines)), options=OPTIONS)
    (layer,) = result.by_type("aws:lambda/layerVersion:LayerVersion")
    assert layer.parent == "artifacts-us-east-1"
    assert layer.inputs["layerName"] == "glacier-plan-glacier-runtime-arm64-py312"
    functions = result.by_type("aws:lambda/function:Function")
    assert sorted(f.parent or "" for f in functions) == ["a", "a-b"]
    arn = f"arn:aws:lambda:us-east-1:123456789012:layer:{layer.inputs['layerName']}:1"
    assert all(f.inputs["layers"] == [arn] for f in functions)
    objects = result.by_type("aws:s3/bucketObjectv2:BucketObjectv2")
    assert sum(r.inputs["key"].startswith("layers/") for r in objects) == 1
    # Each pipeline keeps its own bundle in the shared bucket.
    bundles = sorted(r.inputs["key"] for r in objects if r.inputs["key"].startswith("code/"))
    assert bundles == ["code/a-b/bundle.zip", "code/a/bundle.zip"]
    (bucket,) = {f.inputs["s3Bucket"] for f in functions}
    assert bucket == "glacier-plan-artifacts-123456789012-us-east-1"


LONG = """
import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, SparkConfig

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/glacier-emr:py311"  # emr-7.x + python3.11
provider = Provider(config=AwsConfig(region="eu-west-1"))
fn = provider.serverless()
glue = provider.spark()
emr = provider.spark(config=SparkConfig(engine="emr-serverless", emr_image=IMAGE))
src = provider.bucket(bucket="lake", path="src.parquet")
a = provider.bucket(bucket="lake", path="a.parquet")
b = provider.bucket(bucket="lake", path="b.parquet")
c = provider.bucket(bucket="lake", path="c.parquet")


@fn.task(name="{t1}")
def one(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@glue.task(name="{t2}")
def two(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@emr.task(name="{t3}")
def three(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


p = Pipeline(name="{pipeline}").source(src).transform(one).to(a).transform(two).to(b).transform(three).to(c)
"""
LIMITS = {
    "aws:iam/role:Role": ("name", 64),
    "aws:iam/rolePolicy:RolePolicy": ("name", 128),
    "aws:lambda/function:Function": ("name", 64),
    "aws:lambda/layerVersion:LayerVersion": ("layerName", 140),
    "aws:s3/bucket:Bucket": ("bucket", 63),
    "aws:sfn/stateMachine:StateMachine": ("name", 80),
    "aws:cloudwatch/logGroup:LogGroup": ("name", 512),
    "aws:glue/job:Job": ("name", 255),
    "aws:emrserverless/application:Application": ("name", 64),
    "aws:scheduler/schedule:Schedule": ("name", 64),
}


def test_no_name_longer_than_aws_allows_for_long_pipeline_and_task_names(tmp_path: Path) -> None:
    pipeline = "p" + "x" * 78 + "z"  # 80 characters, the longest the DSL allows
    tasks = [f"t{i}" + "y" * 61 + "w" for i in range(1, 4)]  # 64 characters each
    assert len(pipeline) == 80 and {len(t) for t in tasks} == {64}
    path = write_project(tmp_path, LONG.format(pipeline=pipeline, t1=tasks[0], t2=tasks[1], t3=tasks[2]))
    result = plan(str(path), options=DeployOptions(build_layer=False, schedule="rate(1 day)"))
    seen: dict[str, list[str]] = {}
    for kind, (field, limit) in LIMITS.items():
        names = [r.inputs[field] for r in result.by_type(kind)]
        assert names, kind
        assert all(len(n) <= limit for n in names), (kind, [n for n in names if len(n) > limit])
        assert len(set(names)) == len(names), kind
        seen[kind] = names
    # Cut names stay distinct and stable: each ends in a hash of the whole name.
    roles = seen["aws:iam/role:Role"]
    assert len(roles) == 5 and all(len(r) == 64 for r in roles)
    definition = json.loads(result.get(f"{pipeline}-sfn").inputs["definition"])
    assert set(definition["States"]) >= set(tasks)


SFN = """
import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig())
fn = provider.serverless()


@fn.task(name="{task}")
def work(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


p = Pipeline(name="{pipeline}").source(provider.bucket("lake", "src.parquet")).transform(work).to(
    provider.bucket("lake", "{pipeline}/out.parquet")
)
"""


def test_a_task_named_like_the_state_machine_is_refused_naming_the_task(tmp_path: Path) -> None:
    path = write_project(tmp_path, SFN.format(task="sfn", pipeline="p"))
    with pytest.raises(
        DeploymentError,
        match=r"state machine and task 'sfn' of pipeline 'p' would both get the IAM role name 'p-sfn-role'",
    ) as err:
        plan(str(path), options=OPTIONS)
    assert "rename task 'sfn' of pipeline 'p'" in err.value.fix


def test_a_task_named_schedule_collides_only_with_a_schedule(tmp_path: Path) -> None:
    path = write_project(tmp_path, SFN.format(task="schedule", pipeline="p"))
    result = plan(str(path), options=OPTIONS)
    assert result.get("p-schedule-role").inputs["name"] == "p-schedule-role"
    with pytest.raises(
        DeploymentError, match=r"Pipeline 'p''s schedule and task 'schedule' of pipeline 'p' would both"
    ):
        plan(str(path), options=DeployOptions(build_layer=False, schedule="rate(1 day)"))


TWO_PIPELINES = """
import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig())
fn = provider.serverless()


@fn.task(name="b-c")
def first(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@fn.task(name="c")
def second(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


one = Pipeline(name="a").source(provider.bucket("lake", "src.parquet")).transform(first).to(
    provider.bucket("lake", "a/out.parquet")
)
two = Pipeline(name="a-b").source(provider.bucket("lake", "src.parquet")).transform(second).to(
    provider.bucket("lake", "a-b/out.parquet")
)
"""


def test_names_that_meet_across_pipelines_are_refused(tmp_path: Path) -> None:
    path = write_project(tmp_path, TWO_PIPELINES)
    with pytest.raises(
        DeploymentError,
        match=r"Task 'b-c' of pipeline 'a' and task 'c' of pipeline 'a-b' would both get the "
        r"IAM role name 'a-b-c-role'",
    ):
        plan(str(path), options=OPTIONS)


TIMEOUTS = """
import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, LambdaConfig

provider = Provider(config=AwsConfig())
fn = provider.serverless({config})


@fn.task(timeout={timeout})
def work(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


p = Pipeline(name="t").source(provider.bucket("lake", "src.parquet")).transform(work).to(
    provider.bucket("lake", "out.parquet")
)
"""


def _timeouts(tmp_path: Path, config: str, timeout: float) -> tuple[int, int | None]:
    path = write_project(
        tmp_path, TIMEOUTS.format(config=config, timeout=timeout), f"t{abs(hash((config, timeout)))}.py"
    )
    result = plan(str(path), options=OPTIONS)
    state = json.loads(result.get("t-sfn").inputs["definition"])["States"]["work"]
    return result.get("t-work-function").inputs["timeout"], state.get("TimeoutSeconds")


def test_a_task_timeout_longer_than_its_function_is_refused(tmp_path: Path) -> None:
    path = write_project(tmp_path, TIMEOUTS.format(config="config=LambdaConfig(timeout=60)", timeout=3600))
    with pytest.raises(
        DeploymentError,
        match=r"Task 'work' of pipeline 't' has timeout=3600 s, longer than its function's "
        r"LambdaConfig\(timeout=60\)",
    ) as err:
        plan(str(path), options=OPTIONS)
    assert "at most 60 s" in err.value.fix


def test_the_function_timeout_follows_the_task_when_only_the_task_sets_one(tmp_path: Path) -> None:
    assert _timeouts(tmp_path, "", 120) == (120, 120)
    assert _timeouts(tmp_path, "", 90.5) == (91, 91)
    assert _timeouts(tmp_path, "", 3600) == (900, 900)  # Lambda's limit: the state matches it
    assert _timeouts(tmp_path, "config=LambdaConfig(memory=512)", 120) == (120, 120)
    assert _timeouts(tmp_path, "config=LambdaConfig(timeout=300)", 120) == (300, 120)
    assert _timeouts(tmp_path, "config=LambdaConfig(timeout=300)", 300) == (300, 300)
    assert _timeouts(tmp_path, "", None) == (900, None)  # type: ignore[arg-type]


def test_these_errors_are_documented() -> None:
    doc = (REPO / "docs/errors.md").read_text()
    for case in (
        "task_timeout_over_function_timeout",
        "duplicate_resource_name",
        "artifacts_not_declared",
        "layer_not_declared",
        "spark_runtime_not_declared",
        "too_many_lifecycle_rules",
    ):
        assert f"`{case}`" in doc


def _one_pipeline() -> CompiledPipeline:
    (compiled,) = load_pipelines(REPO / "examples/seed_000/example1_simple_etl.py").pipelines
    return compiled


def _deploy_alone(artifacts_args: ProgramArtifactsArgs | None) -> None:
    compiled = _one_pipeline()

    def program() -> dict[str, object]:
        buckets = DataBuckets("data-buckets", DataBucketsArgs.for_pipelines([compiled.dag], OPTIONS)).buckets
        artifacts = ProgramArtifacts("artifacts-x", artifacts_args) if artifacts_args else None
        args = PipelineDeploymentArgs(
            pipeline=compiled, options=OPTIONS, data_buckets=buckets, artifacts=artifacts
        )
        PipelineDeployment(compiled.name, args)
        return {}

    run_under_mocks(program)


def test_a_component_needs_the_programs_artifacts_with_its_layer() -> None:
    with pytest.raises(
        DeploymentError, match=r"'simple_etl' deploys to us-east-1 but was given no artifacts"
    ):
        _deploy_alone(None)
    with pytest.raises(DeploymentError, match=r"was given the artifacts of eu-west-1"):
        _deploy_alone(ProgramArtifactsArgs(region="eu-west-1", layers=(("arm64", "3.12"),), options=OPTIONS))
    with pytest.raises(
        DeploymentError, match=r"'simple_etl' runs Lambda tasks on arm64 Python 3.12, a layer its artifacts"
    ):
        _deploy_alone(ProgramArtifactsArgs(region="us-east-1", layers=(("x86_64", "3.12"),), options=OPTIONS))
    _deploy_alone(ProgramArtifactsArgs.for_pipelines([_one_pipeline().dag], OPTIONS)[0])


def test_a_spark_pipeline_needs_the_spark_runtime_files(tmp_path: Path) -> None:
    path = write_project(tmp_path, CONFIGURED, "configured_pipelines.py")
    spark = next(p for p in load_pipelines(path).pipelines if p.name == "configured_spark")
    region = "eu-west-1"

    def program() -> dict[str, object]:
        buckets = DataBuckets("data-buckets", DataBucketsArgs.for_pipelines([spark.dag], OPTIONS)).buckets
        artifacts = ProgramArtifacts("artifacts-x", ProgramArtifactsArgs(region=region, options=OPTIONS))
        args = PipelineDeploymentArgs(
            pipeline=spark, options=OPTIONS, data_buckets=buckets, artifacts=artifacts
        )
        PipelineDeployment(spark.name, args)
        return {}

    with pytest.raises(
        DeploymentError, match=r"'configured_spark' has Spark tasks, but its artifacts hold no"
    ):
        run_under_mocks(program)


def test_a_bucket_with_datasets_in_too_many_folders_is_refused() -> None:
    from glacier.deploy.lifecycle import data_bucket_rules, staging_prefixes

    prefixes = staging_prefixes(f"f{i}/x.parquet" for i in range(1000))
    with pytest.raises(
        DeploymentError, match=r"Bucket 'lake' holds datasets in 1000 folders; S3 allows 1000"
    ):
        data_bucket_rules("lake", prefixes)
    assert len(data_bucket_rules("lake", prefixes[:999])) == 1000
