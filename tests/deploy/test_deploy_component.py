"""The PipelineDeployment component under Pulumi's mocks (real pulumi + pulumi-aws SDKs).

Assertions read the inputs the engine received in ``new_resource`` (never ``.apply``)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from deploy_helpers import (
    ARTIFACTS,
    COMPONENT,
    CONFIGURED,
    DATA_BUCKETS,
    EXAMPLES,
    REPO,
    example_plan,
    plan,
    write_project,
)

from glacier.config import SparkConfig
from glacier.dag.model import PipelineDAG
from glacier.deploy import job_packages, naming
from glacier.deploy.component import DeployOptions
from glacier.deploy.plan import PlanResult
from glacier.dsl.discovery import load_pipelines

BUCKET_KINDS = (
    "aws:s3/bucket:Bucket",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
)
ALERTS = "glacier:aws:Alerts"
ROLE_KINDS = ("aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy", "aws:cloudwatch/logGroup:LogGroup")


def expected_types(path: str) -> Counter[str]:
    """The resource set the DAGs call for, counted independently of the component."""
    expected: Counter[str] = Counter()
    declared: set[str] = set()
    tables: set[str] = set()  # datasets with a schema: one Glue table each, per program
    watched: set[str] = set()
    layers: set[tuple[str, str]] = set()  # one per program per (architecture, Python)
    spark = False
    packages: set[object] = set()  # one job package per (engine, variant, architecture)
    for compiled in load_pipelines(REPO / path).pipelines:
        dag = compiled.dag
        expected[COMPONENT] += 1
        managed = {ds.bucket for ds in dag.datasets if ds.managed} - declared
        declared |= managed
        for kind in BUCKET_KINDS:
            expected[kind] += len(managed)
        expected["aws:s3/bucketObjectv2:BucketObjectv2"] += 1  # code bundle
        lambda_tasks = [t for t in dag.tasks if not isinstance(t.executor.config, SparkConfig)]
        spark_tasks = [t for t in dag.tasks if isinstance(t.executor.config, SparkConfig)]
        emr_tasks = [t for t in spark_tasks if t.executor.config.engine == "emr-serverless"]  # type: ignore[union-attr]
        layers |= {(t.executor.config.architecture, t.executor.config.python_version) for t in lambda_tasks}  # type: ignore[union-attr]
        expected["aws:lambda/function:Function"] += len(lambda_tasks)
        if spark_tasks:
            spark = True
            expected["aws:glue/job:Job"] += len(spark_tasks) - len(emr_tasks)
            packages |= {job_packages.task_package_spec(t) for t in spark_tasks}
        if emr_tasks:  # one application per pipeline, with its log group
            expected["aws:emrserverless/application:Application"] += 1
            expected["aws:cloudwatch/logGroup:LogGroup"] += 1
        for kind in ROLE_KINDS:
            expected[kind] += len(dag.tasks) + 1  # + the state machine's
        # A Glue job logs to its own <prefix>/output and <prefix>/error; EMR runs to the app's.
        expected["aws:cloudwatch/logGroup:LogGroup"] += len(spark_tasks) - 2 * len(emr_tasks)
        expected["aws:sfn/stateMachine:StateMachine"] += 1
        with_schema = {ds.id for ds in dag.datasets if ds.columns is not None} - tables
        tables |= with_schema
        expected["aws:glue/catalogTable:CatalogTable"] += len(with_schema)
        # A single-file dataset's table reads a symlink manifest object.
        expected["aws:s3/bucketObjectv2:BucketObjectv2"] += sum(
            not dag.dataset(ds).is_directory for ds in with_schema
        )
        expected += trigger_types(dag, watched)
    expected[DATA_BUCKETS] = 1 if declared else 0  # the program's shared data buckets
    if tables:  # only a program with schemas has a catalog
        expected["glacier:aws:DataCatalog"] = 1
        expected["aws:glue/catalogDatabase:CatalogDatabase"] = 1
    expected["aws:s3/bucketNotification:BucketNotification"] += len(watched & declared)
    if any(p.dag.triggers for p in load_pipelines(REPO / path).pipelines):  # alerts by default
        expected[ALERTS] += 1
        for kind in ("aws:sns/topic:Topic", "aws:sns/topicPolicy:TopicPolicy"):
            expected[kind] += 1
        expected["aws:cloudwatch/eventRule:EventRule"] += 1
        expected["aws:cloudwatch/eventTarget:EventTarget"] += 1
        expected["aws:cloudwatch/metricAlarm:MetricAlarm"] += len(load_pipelines(REPO / path).pipelines)
    expected[ARTIFACTS] = 1  # the program's artifacts (all examples deploy to one region)
    for kind in BUCKET_KINDS:
        expected[kind] += 1  # the artifacts bucket
    spark_objects = 1 + len(packages) if spark else 0  # + the entry script and the job packages
    expected["aws:s3/bucketObjectv2:BucketObjectv2"] += len(layers) + spark_objects
    expected["aws:lambda/layerVersion:LayerVersion"] += len(layers)
    return +expected


def trigger_types(dag: PipelineDAG, watched: set[str]) -> Counter[str]:
    """A schedule: the schedule and its role; arrivals: one role, a rule and target each
    (``watched`` collects the buckets S3 must notify EventBridge for)."""
    found: Counter[str] = Counter()
    arrivals = [t for t in dag.triggers if t.kind == "arrival"]
    if any(t.kind == "schedule" for t in dag.triggers):
        found["aws:scheduler/schedule:Schedule"] += 1
        found["aws:iam/role:Role"] += 1
        found["aws:iam/rolePolicy:RolePolicy"] += 1
    if arrivals:
        found["aws:iam/role:Role"] += 1
        found["aws:iam/rolePolicy:RolePolicy"] += 1
        found["aws:cloudwatch/eventRule:EventRule"] += len(arrivals)
        found["aws:cloudwatch/eventTarget:EventTarget"] += len(arrivals)
        watched.update(t.bucket for t in arrivals)
    return found


@pytest.mark.parametrize("path", EXAMPLES)
def test_resource_set_of_each_example(path: str) -> None:
    result = example_plan(path)
    assert Counter(r.type for r in result.resources) == expected_types(path)


@pytest.mark.parametrize("path", EXAMPLES)
def test_every_child_is_parented_and_prefixed(path: str) -> None:
    result = example_plan(path)
    # The program-level components: its pipelines', its data buckets, (when a dataset has a
    # schema) its Glue Data Catalog (when a pipeline runs unattended) its alerts, and its artifacts.
    top = (COMPONENT, DATA_BUCKETS, "glacier:aws:DataCatalog", ALERTS, ARTIFACTS)
    components = {r.name for r in result.resources if r.type in top}
    for r in result.resources:
        if r.type in top:
            assert r.parent is None
            continue
        assert r.parent in components, r.name
        assert r.name.startswith(f"{r.parent}-"), r.name
    assert len({(r.type, r.name) for r in result.resources}) == len(result.resources)


@pytest.mark.parametrize("path", EXAMPLES)
def test_outputs_registered(path: str) -> None:
    result = example_plan(path)
    for compiled in load_pipelines(REPO / path).pipelines:
        outputs = result.outputs[compiled.name]
        sm_name = naming.state_machine_name(compiled.name)
        assert outputs["state_machine_name"] == sm_name
        assert outputs["state_machine_arn"].endswith(f":stateMachine:{sm_name}")
        assert set(outputs["buckets"]) == {ds.bucket for ds in compiled.dag.datasets}
        deployed = set(outputs["functions"]) | set(outputs["jobs"])
        assert deployed == {t.name for t in compiled.dag.tasks}


def test_component_registers_outputs_last(tmp_path: Path) -> None:
    # The engine saw register_outputs for each component with the same values the program exports.
    from glacier.deploy import plan as plan_module
    from glacier.deploy.program import ProgramConfig, declare

    monitor_outputs: dict[str, object] = {}
    original = plan_module._RecordingMonitor.RegisterResourceOutputs

    def spy(self, request):  # type: ignore[no-untyped-def]
        response = original(self, request)
        monitor_outputs.update(self.outputs)
        return response

    plan_module._RecordingMonitor.RegisterResourceOutputs = spy  # type: ignore[method-assign]
    try:
        config = ProgramConfig(
            modules=(str(REPO / "examples/seed_000/example3_join.py"),),
            options=DeployOptions(build_layer=False),
        )
        result = plan_module.run_under_mocks(lambda: declare(config, load_pipelines))
    finally:
        plan_module._RecordingMonitor.RegisterResourceOutputs = original  # type: ignore[method-assign]
    assert set(monitor_outputs) == {
        "join_step1",
        "join_step2",
        "summarize",
        "data-buckets",
        "artifacts-us-east-1",
    }
    pipelines = {
        name: out
        for name, out in monitor_outputs.items()
        if name not in ("data-buckets", "artifacts-us-east-1")
    }
    assert pipelines == result.outputs
    assert monitor_outputs["data-buckets"] == {"buckets": {"data": "data"}}


def test_plan_is_deterministic() -> None:
    path = str(REPO / "examples/seed_000/core_multi_source.py")
    first = plan(path, options=DeployOptions(build_layer=False)).dumps()
    second = plan(path, options=DeployOptions(build_layer=False)).dumps()
    assert first == second


def test_shared_bucket_declared_once_and_pipelines_do_not_collide() -> None:
    result = example_plan("examples/seed_000/example3_join.py")
    buckets = [r.inputs["bucket"] for r in result.by_type("aws:s3/bucket:Bucket")]
    assert sorted(buckets) == ["data", "glacier-plan-artifacts-123456789012-us-east-1"]
    physical: list[str] = []
    for kind in (
        "aws:lambda/function:Function",
        "aws:glue/job:Job",
        "aws:iam/role:Role",
        "aws:sfn/stateMachine:StateMachine",
        "aws:cloudwatch/logGroup:LogGroup",
    ):
        physical += [f"{kind}:{r.inputs['name']}" for r in result.by_type(kind)]
    assert len(physical) == len(set(physical))


def test_managed_bucket_is_private_encrypted_versioned_tls_only() -> None:
    result = example_plan("examples/seed_000/example1_simple_etl.py")
    prefix = "data-buckets-data"
    assert result.get(prefix).inputs["bucket"] == "data"
    block = result.get(f"{prefix}-public-access-block").inputs
    assert all(
        block[k]
        for k in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
    )
    sse = result.get(f"{prefix}-encryption").inputs["rules"][0]
    assert sse["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"
    assert result.get(f"{prefix}-versioning").inputs["versioningConfiguration"]["status"] == "Enabled"
    policy = json.loads(result.get(f"{prefix}-tls-only").inputs["policy"])
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> PlanResult:
    path = write_project(tmp_path_factory.mktemp("configured"), CONFIGURED, "configured_pipelines.py")
    return plan(str(path), options=DeployOptions(build_layer=False))


def test_lambda_config_reaches_the_function(configured: PlanResult) -> None:
    fn = configured.get("configured-enrich-function").inputs
    assert fn["name"] == "configured-enrich"
    assert (fn["memorySize"], fn["timeout"], fn["ephemeralStorage"]) == (2048, 300, {"size": 4096})
    assert fn["architectures"] == ["x86_64"]
    assert fn["runtime"] == "python3.13"
    assert fn["handler"] == "glacier.runtime.lambda_handler.handler"
    assert fn["region"] == "eu-west-1"
    assert fn["role"].endswith(":role/configured-enrich-role")
    assert fn["s3Key"] == "code/configured/bundle.zip"
    layer = configured.get("artifacts-eu-west-1-layer-x86_64-py3.13").inputs
    assert layer["compatibleArchitectures"] == ["x86_64"]
    assert "manylinux2014_x86_64" in layer["description"]
    assert fn["layers"] == [f"arn:aws:lambda:eu-west-1:123456789012:layer:{layer['layerName']}:1"]


def test_spark_config_reaches_the_glue_job(configured: PlanResult) -> None:
    job = configured.get("configured_spark-heavy-job").inputs
    assert (job["glueVersion"], job["workerType"], job["numberOfWorkers"], job["timeout"]) == (
        "5.0",
        "G.2X",
        5,
        30,
    )
    assert job["command"]["name"] == "glueetl"
    artifacts = "s3://glacier-plan-artifacts-123456789012-eu-west-1"
    assert job["command"]["scriptLocation"] == f"{artifacts}/glacier/spark_entry.py"
    args = job["defaultArguments"]
    package = job_packages.glue_package_spec("polars")
    assert args["--additional-python-modules"] == f"{artifacts}/{package.s3_key}"
    assert args["--python-modules-installer-option"] == "--no-index"
    assert args["--extra-py-files"] == f"{artifacts}/code/configured_spark/bundle.zip"


def test_emr_serverless_application_and_definition(configured: PlanResult) -> None:
    app = configured.get("configured_emr-emr")
    assert app.inputs["type"] == "spark" and app.inputs["releaseLabel"].startswith("emr-7")
    definition = json.loads(configured.get("configured_emr-sfn").inputs["definition"])
    state = definition["States"]["heavier"]
    assert state["Resource"] == "arn:aws:states:::emr-serverless:startJobRun.sync"
    assert state["Parameters"]["ApplicationId"] == "configured_emr-emr-id"
    assert state["Parameters"]["ExecutionRoleArn"].endswith(":role/configured_emr-heavier-role")


def test_external_bucket_is_referenced_not_created(configured: PlanResult) -> None:
    created = {r.inputs["bucket"] for r in configured.by_type("aws:s3/bucket:Bucket")}
    assert "shared-ref" not in created and "lake" in created
    policy = json.loads(configured.get("configured-enrich-policy").inputs["policy"])
    reads = next(s for s in policy["Statement"] if s["Sid"] == "ReadInputs")
    assert reads["Resource"] == ["arn:aws:s3:::lake/raw/events/*", "arn:aws:s3:::shared-ref/ref.csv"]


def test_retries_and_timeout_in_the_state(configured: PlanResult) -> None:
    definition = json.loads(configured.get("configured-sfn").inputs["definition"])
    state = definition["States"]["enrich"]
    assert state["Retry"][-1] == {
        "BackoffRate": 2,
        "ErrorEquals": ["States.ALL"],
        "IntervalSeconds": 2,
        "MaxAttempts": 2,
    }
    assert "Lambda.ServiceException" in state["Retry"][0]["ErrorEquals"]
    assert state["TimeoutSeconds"] == 120


TWO_TASKS = """
import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig())
run = provider.serverless()
src = provider.bucket(bucket="bucket-one", path="src.parquet")
mid = provider.bucket(bucket="bucket-one", path="mid.parquet")
out = provider.bucket(bucket="bucket-one", path="out.parquet")


def helper(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@run.task()
def first(df: pl.LazyFrame) -> pl.LazyFrame:
    return helper(df).filter(pl.col("x") > 0)


@run.task()
def second(df: pl.LazyFrame) -> pl.LazyFrame:
    return df.select("x")


pipe = Pipeline(name="two").source(src).transform(first).to(mid).transform(second).to(out)
"""


def _inputs_by_name(result: PlanResult) -> dict[str, str]:
    return {r.name: json.dumps(r.inputs, sort_keys=True) for r in result.resources}


def _changed(before: PlanResult, after: PlanResult) -> set[str]:
    a, b = _inputs_by_name(before), _inputs_by_name(after)
    assert set(a) == set(b)
    return {name for name in a if a[name] != b[name]}


def test_changing_one_task_body_changes_only_its_artifact_and_function(tmp_path: Path) -> None:
    path = write_project(tmp_path / "proj", TWO_TASKS, "two_tasks.py")
    options = DeployOptions(build_layer=False)
    before = plan(str(path), options=options)
    assert _changed(before, plan(str(path), options=options)) == set()  # rerun: identical inputs

    path.write_text(path.read_text().replace('pl.col("x") > 0', 'pl.col("x") > 1'))
    assert _changed(before, plan(str(path), options=options)) == {"two-code", "two-first-function"}

    path.write_text(path.read_text().replace("return df\n", "return df.lazy()\n"))  # the shared helper
    changed = _changed(before, plan(str(path), options=options))
    assert {"two-first-function", "two-second-function"} <= changed


def test_optional_schedule_targets_the_state_machine(tmp_path: Path) -> None:
    path = write_project(tmp_path / "sched", TWO_TASKS, "scheduled.py")
    result = plan(str(path), options=DeployOptions(build_layer=False, schedule="rate(1 day)"))
    schedule = result.get("two-schedule").inputs
    assert schedule["scheduleExpression"] == "rate(1 day)"
    assert schedule["target"]["arn"] == result.outputs["two"]["state_machine_arn"]
    policy = json.loads(result.get("two-schedule-policy").inputs["policy"])
    assert policy["Statement"][0]["Action"] == ["states:StartExecution"]
    assert policy["Statement"][0]["Resource"] == [result.outputs["two"]["state_machine_arn"]]
