"""Spark tasks deployed for real, under Pulumi's mocks (real pulumi + pulumi-aws v7 classes):
pyspark tasks as Glue 5 jobs, one EMR Serverless application per pipeline with a ``.sync`` job
run per task, job packages read from the artifacts bucket only (no PyPI at job start),
asl-validator on the definition, parliament on the roles, and what Spark cannot run refused."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from deploy_helpers import REPO, plan, write_project
from test_deploy_asl import VALIDATOR
from test_deploy_iam import serious_findings

from glacier.deploy import job_packages, naming
from glacier.deploy.component import DeployOptions
from glacier.deploy.plan import PlanResult
from glacier.errors import DeploymentError

ARTIFACTS = "s3://glacier-plan-artifacts-123456789012-us-east-1"

# A pyspark task on Glue (FLEX), a pyspark and a Polars task on EMR Serverless (two worker
# sizes), and a Lambda task joining them.
MIXED = """
from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl

from glacier import Pipeline, Provider
from glacier.config import AwsConfig, SparkConfig

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/glacier-emr:py311"  # emr-7.x + python3.11
provider = Provider(config=AwsConfig(region="us-east-1"))
glue = provider.spark(config=SparkConfig(workers=10, execution_class="FLEX"))
emr = provider.spark(config=SparkConfig(engine="emr-serverless", emr_image=IMAGE, workers=3))
emr_wide = provider.spark(
    config=SparkConfig(engine="emr-serverless", emr_image=IMAGE, workers=5, worker_type="G.2X")
)
small = provider.serverless()


@glue.task()
def clean(events: "DataFrame") -> "DataFrame":
    return events.dropDuplicates()


@emr.task()
def score(df: "DataFrame") -> "DataFrame":
    return df


@emr_wide.task()
def rank(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


@small.task()
def report(scored: pl.LazyFrame, ranked: pl.LazyFrame) -> pl.LazyFrame:
    return scored.join(ranked, on="id")


cleaned = Pipeline(name="mixed", events=provider.bucket("lake", "raw/events/")).transform(clean).to(
    provider.bucket("lake", "clean/")
)
mixed = (
    Pipeline(
        name="mixed",
        scored=cleaned.transform(score).to(provider.bucket("lake", "scored/")),
        ranked=cleaned.transform(rank).to(provider.bucket("lake", "ranked.parquet")),
    )
    .transform(report)
    .to(provider.bucket("lake", "report.parquet"))
)
"""


@cache
def mixed_plan(tmp: Path) -> PlanResult:
    path = write_project(tmp, MIXED, "mixed_spark.py")
    return plan(str(path), options=DeployOptions(build_layer=False))


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> PlanResult:
    return mixed_plan(tmp_path_factory.mktemp("mixed"))


def definition(result: PlanResult) -> dict[str, Any]:
    return json.loads(result.get("mixed-sfn").inputs["definition"])


def task_states(block: dict[str, Any]) -> dict[str, Any]:
    """Every state by name, those inside Parallel branches too."""
    found: dict[str, Any] = {}
    for name, state in block["States"].items():
        found[name] = state
        for branch in state.get("Branches", ()):
            found.update(task_states(branch))
    return found


def policy(result: PlanResult, label: str) -> dict[str, Any]:
    return json.loads(result.get(f"mixed-{label}-policy").inputs["policy"])


def statement(policy: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in policy["Statement"] if s["Sid"] == sid)


# -- Glue 5 ------------------------------------------------------------------------------------


def test_a_pyspark_task_is_a_glue_5_job_with_auto_scaling_and_flex(mixed: PlanResult) -> None:
    job = mixed.get("mixed-clean-job").inputs
    assert (job["glueVersion"], job["command"]["name"], job["executionClass"]) == ("5.0", "glueetl", "FLEX")
    assert job["numberOfWorkers"] == 10 and job["workerType"] == "G.1X"
    assert job["command"]["scriptLocation"] == f"{ARTIFACTS}/glacier/spark_entry.py"
    args = job["defaultArguments"]
    assert args["--enable-auto-scaling"] == "true"  # the 10 workers are the most it scales to
    assert args["--extra-py-files"] == f"{ARTIFACTS}/code/mixed/bundle.zip"


def test_a_glue_job_logs_with_glue_5_arguments_to_its_own_groups(mixed: PlanResult) -> None:
    args = mixed.get("mixed-clean-job").inputs["defaultArguments"]
    prefix = "/aws-glue/glacier/mixed-clean"
    assert args["--custom-logGroup-prefix"] == prefix
    # Glue <= 4.0's continuous-logging flags are gone in Glue 5.
    assert not [a for a in args if a.startswith(("--enable-continuous", "--continuous-log"))]
    groups = {mixed.get(n).inputs["name"] for n in ("mixed-clean-logs", "mixed-clean-error-logs")}
    assert groups == {f"{prefix}/output", f"{prefix}/error"}
    writes = statement(policy(mixed, "clean"), "WriteLogs")["Resource"]
    assert sorted(writes) == sorted(
        f"arn:aws:logs:us-east-1:123456789012:log-group:{g}:log-stream:*" for g in groups
    )


def test_a_glue_job_installs_its_package_from_s3_and_nothing_from_pypi(mixed: PlanResult) -> None:
    args = mixed.get("mixed-clean-job").inputs["defaultArguments"]
    package = job_packages.glue_package_spec("pyspark")  # a pyspark task's job has no polars
    assert args["--additional-python-modules"] == f"{ARTIFACTS}/{package.s3_key}"
    assert args["--python-modules-installer-option"] == "--no-index"
    assert not [v for v in args.values() if "==" in v]  # no requirement pin left for pip to fetch
    uploaded = {r.inputs["key"] for r in mixed.by_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    assert package.s3_key in uploaded
    reads = statement(policy(mixed, "clean"), "ReadArtifacts")["Resource"]
    bucket = "arn:aws:s3:::glacier-plan-artifacts-123456789012-us-east-1"
    assert sorted(reads) == sorted(
        f"{bucket}/{key}" for key in ("code/mixed/bundle.zip", "glacier/spark_entry.py", package.s3_key)
    )


# -- EMR Serverless ----------------------------------------------------------------------------


def test_one_emr_application_per_pipeline_sized_for_all_its_runs(mixed: PlanResult) -> None:
    (app,) = mixed.by_type("aws:emrserverless/application:Application")
    assert app.name == "mixed-emr" and app.inputs["name"] == naming.emr_application_name("mixed")
    assert app.inputs["architecture"] == job_packages.EMR_ARCHITECTURE
    assert app.inputs["releaseLabel"].startswith("emr-7")
    # score: 3 G.1X workers + driver; rank: 5 G.2X workers + driver, all at once.
    assert app.inputs["maximumCapacity"] == {
        "cpu": f"{4 * 4 + 6 * 8} vCPU",
        "memory": f"{4 * 16 + 6 * 32} GB",
    }
    assert mixed.outputs["mixed"]["emr_applications"] == {"rank": "mixed-emr-id", "score": "mixed-emr-id"}


def test_each_emr_task_is_a_sync_job_run_on_the_one_application(mixed: PlanResult) -> None:
    states = task_states(definition(mixed))
    runs = {task: states[task] for task in ("score", "rank")}
    for task, state in runs.items():
        params = state["Parameters"]
        assert state["Resource"] == "arn:aws:states:::emr-serverless:startJobRun.sync"
        assert params["ApplicationId"] == "mixed-emr-id"
        assert params["ExecutionRoleArn"] == f"arn:aws:iam::123456789012:role/mixed-{task}-role"
        assert params["JobDriver"]["SparkSubmit"]["EntryPointArguments.$"].startswith(
            "States.Array('--glacier-event', States.Format('"
        )
        # An unpartitioned pipeline's runs get no partition argument.
        assert "--glacier-partition" not in params["JobDriver"]["SparkSubmit"]["EntryPointArguments.$"]
        logging = params["ConfigurationOverrides"]["MonitoringConfiguration"][
            "CloudWatchLoggingConfiguration"
        ]
        assert (
            logging["LogGroupName"] == naming.emr_log_group("mixed-emr")
            and logging["LogStreamNamePrefix"] == task
        )
        # One entry script for every Spark task (pyspark, co-partitioned Polars, Polars).
        assert params["JobDriver"]["SparkSubmit"]["EntryPoint"] == f"{ARTIFACTS}/glacier/spark_entry.py"


def spark_conf(submit: str) -> dict[str, str]:
    words = submit.split()
    assert words[::2] == ["--conf"] * (len(words) // 2)
    return dict(word.split("=", 1) for word in words[1::2])


def test_an_emr_run_gets_its_python_from_the_archive_and_its_size_from_the_worker_type(
    mixed: PlanResult,
) -> None:
    states = task_states(definition(mixed))
    score = spark_conf(states["score"]["Parameters"]["JobDriver"]["SparkSubmit"]["SparkSubmitParameters"])
    rank = spark_conf(states["rank"]["Parameters"]["JobDriver"]["SparkSubmit"]["SparkSubmitParameters"])
    pyspark = job_packages.emr_package_spec(job_packages.EMR_ARCHITECTURE, "pyspark")
    polars = job_packages.emr_package_spec(job_packages.EMR_ARCHITECTURE, "polars")
    assert score["spark.archives"] == f"{ARTIFACTS}/{pyspark.s3_key}#glacier-env"
    assert rank["spark.archives"] == f"{ARTIFACTS}/{polars.s3_key}#glacier-env"
    for conf in (score, rank):
        assert conf["spark.emr-serverless.driverEnv.PYSPARK_PYTHON"] == "./glacier-env/bin/python"
        assert conf["spark.executorEnv.PYSPARK_PYTHON"] == "./glacier-env/bin/python"
        assert conf["spark.submit.pyFiles"] == f"{ARTIFACTS}/code/mixed/bundle.zip"
    assert (score["spark.executor.cores"], score["spark.executor.memory"]) == ("4", "14g")
    assert (rank["spark.executor.cores"], rank["spark.executor.memory"]) == ("8", "28g")
    assert (score["spark.dynamicAllocation.maxExecutors"], rank["spark.dynamicAllocation.maxExecutors"]) == (
        "3",
        "5",
    )


def test_the_state_machine_may_start_runs_on_its_one_application_only(mixed: PlanResult) -> None:
    sm = policy(mixed, "sfn")
    app = "arn:aws:emr-serverless:us-east-1:123456789012:/applications/mixed-emr-id"
    assert statement(sm, "StartEmrJobs")["Resource"] == [app]
    passed = next(s for s in sm["Statement"] if "iam:PassRole" in s["Action"])
    assert sorted(passed["Resource"]) == [
        f"arn:aws:iam::123456789012:role/mixed-{t}-role" for t in ("rank", "score")
    ]


def test_mixed_definition_passes_asl_validator(mixed: PlanResult, tmp_path: Path) -> None:
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps(definition(mixed)))
    done = subprocess.run(
        [str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_parliament_finds_nothing_in_the_spark_roles(mixed: PlanResult) -> None:
    policies = {
        r.name: json.loads(r.inputs["policy"]) for r in mixed.by_type("aws:iam/rolePolicy:RolePolicy")
    }
    assert {"mixed-clean-policy", "mixed-score-policy", "mixed-rank-policy", "mixed-sfn-policy"} <= set(
        policies
    )
    for name, document in policies.items():
        assert serious_findings(document) == [], name


def test_each_emr_role_reads_only_its_own_package(mixed: PlanResult) -> None:
    bucket = "arn:aws:s3:::glacier-plan-artifacts-123456789012-us-east-1"
    for task, variant in (("score", "pyspark"), ("rank", "polars")):
        package = job_packages.emr_package_spec(job_packages.EMR_ARCHITECTURE, variant)  # type: ignore[arg-type]
        reads = statement(policy(mixed, task), "ReadArtifacts")["Resource"]
        assert sorted(reads) == sorted(
            f"{bucket}/{k}" for k in ("code/mixed/bundle.zip", "glacier/spark_entry.py", package.s3_key)
        )


# -- offline plans, builds on up ---------------------------------------------------------------


def test_plan_names_the_job_packages_without_building_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache_root = tmp_path / "cache"
    monkeypatch.setenv("GLACIER_CACHE", str(cache_root))
    result = mixed_plan(tmp_path / "project")
    keys = {r.inputs["key"] for r in result.by_type("aws:s3/bucketObjectv2:BucketObjectv2")}
    assert {s.s3_key for s in result_specs()} <= keys
    assert not (cache_root / "jobs").exists() and not (cache_root / "wheels").exists()


def result_specs() -> list[job_packages.JobPackageSpec]:
    arch = job_packages.EMR_ARCHITECTURE
    return [
        job_packages.glue_package_spec("pyspark"),
        job_packages.emr_package_spec(arch, "pyspark"),
        job_packages.emr_package_spec(arch, "polars"),
    ]


GLUE_PYSPARK_ONLY = """
from __future__ import annotations

from typing import TYPE_CHECKING

from glacier import Provider
from glacier.config import AwsConfig, SparkConfig

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/glacier-emr:py311"  # emr-7.x + python3.11
provider = Provider(config=AwsConfig(region="us-east-1"))
spark = provider.spark(config=SparkConfig({config}))


@spark.task()
def dedupe(df: "DataFrame") -> "DataFrame":
    return df.dropDuplicates()


deduped = provider.bucket("lake", "raw.parquet").transform(dedupe).to(
    provider.bucket("lake", "deduped.parquet")
).with_name("spark_only")
"""


def test_pulumi_up_builds_and_uploads_the_package_the_job_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not (REPO / "glacier" / "runtime" / "spark_entry.py").is_file():
        pytest.skip("glacier/runtime/spark_entry.py (the Spark runtime's entry script) is not in this tree")
    monkeypatch.setenv("GLACIER_CACHE", str(tmp_path / "cache"))
    path = write_project(tmp_path / "p", GLUE_PYSPARK_ONLY.format(config=""), "spark_only_up.py")
    result = plan(str(path), options=DeployOptions(build_layer=True))  # what `pulumi up` runs
    spec = job_packages.glue_package_spec("pyspark")
    assert spec.path.is_file() and spec.path.parent.parent == tmp_path / "cache"
    obj = next(
        r for r in result.by_type("aws:s3/bucketObjectv2:BucketObjectv2") if r.inputs["key"] == spec.s3_key
    )
    assert obj.parent == "artifacts-us-east-1"
    args = result.get("spark_only-dedupe-job").inputs["defaultArguments"]
    assert args["--additional-python-modules"] == f"{ARTIFACTS}/{spec.s3_key}"


# -- refused -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("config", "message", "fix"),
    [
        (
            'worker_type="G.025X"',
            r"Task 'dedupe' of pipeline 'spark_only' asks for Glue worker type G\.025X, which Glue offers "
            r"to streaming jobs only",
            "SparkConfig(worker_type='G.1X')",
        ),
        (
            'engine="emr-serverless", emr_image=IMAGE, worker_type="G.8X"',
            r"Task 'dedupe' of pipeline 'spark_only' asks for worker type G\.8X \(32 vCPU\) on EMR "
            "Serverless",
            "SparkConfig(worker_type='G.4X')",
        ),
    ],
)
def test_a_worker_type_the_engine_lacks_is_refused(
    tmp_path: Path, config: str, message: str, fix: str
) -> None:
    path = write_project(tmp_path, GLUE_PYSPARK_ONLY.format(config=config), "spark_refused.py")
    with pytest.raises(DeploymentError, match=message) as info:
        plan(str(path), options=DeployOptions(build_layer=False))
    assert fix in (info.value.fix or "")


def test_the_emr_application_runs_the_tasks_python_311_image(mixed: PlanResult) -> None:
    (app,) = mixed.by_type("aws:emrserverless/application:Application")
    assert app.inputs["imageConfiguration"] == {
        "imageUri": "123456789012.dkr.ecr.us-east-1.amazonaws.com/glacier-emr:py311"
    }


@pytest.mark.parametrize(
    ("config", "message", "fix"),
    [
        (
            'engine="emr-serverless"',
            r"Task\(s\) 'dedupe' of pipeline 'spark_only' run on EMR Serverless, whose stock emr-7\.\d+\.0 "
            r"image has Python 3\.9 only; glacier's runtime and the job package need CPython 3\.11",
            "dnf install -y python3.11",
        ),
        (
            'engine="emr-serverless", emr_image="docker.io/library/python:3.11"',
            r"emr_image.*must be an ECR image URI",
            "",
        ),
        ("emr_image=IMAGE", r"emr_image.*is for engine='emr-serverless' only", ""),
    ],
)
def test_an_emr_task_without_a_python_311_image_is_refused(
    tmp_path: Path, config: str, message: str, fix: str
) -> None:
    from glacier.errors import GlacierError

    path = write_project(tmp_path, GLUE_PYSPARK_ONLY.format(config=config), "spark_no_image.py")
    with pytest.raises(GlacierError, match=message) as info:
        plan(str(path), options=DeployOptions(build_layer=False))
    assert fix in (info.value.fix or "") + str(info.value)


def test_emr_tasks_of_one_pipeline_share_one_image(tmp_path: Path) -> None:
    two = MIXED.replace(
        "emr_image=IMAGE, workers=5", 'emr_image=IMAGE.replace(":py311", ":other"), workers=5'
    )
    assert two != MIXED
    path = write_project(tmp_path, two, "two_images.py")
    with pytest.raises(DeploymentError, match=r"one application, with one image, but they name 2 images"):
        plan(str(path), options=DeployOptions(build_layer=False))
