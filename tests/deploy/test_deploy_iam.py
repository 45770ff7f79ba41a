"""IAM: parliament on every policy the plans declare, and least privilege per role decided by
moto's IAM engine (the evaluator its server authorises requests with; the end-to-end tests in
tests/cloud run every entry point under its role with that server enforcing it). Plans in the
China and GovCloud partitions put every ARN in their partition."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import parliament
import pytest
from deploy_helpers import CONFIGURED, EXAMPLES, REPO, example_plan, plan, write_project
from moto.iam.access_control import IAMPolicy, PermissionResult
from parliament import analyze_policy_string

from glacier.deploy import iam, naming
from glacier.deploy.component import DeployOptions
from glacier.deploy.plan import ACCOUNT, PlanResult
from glacier.dsl.discovery import load_pipelines

SEVERITIES = ["MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]
COMMUNITY_CONFIG = Path(parliament.__file__).parent / "community_auditors" / "config_override.yaml"


def permitted(policy: dict[str, Any], action: str, resource: str) -> bool:
    """Whether moto's IAM engine lets ``policy`` do ``action`` on ``resource``."""
    return IAMPolicy(iam.dumps(policy)).is_action_permitted(action, resource) == PermissionResult.PERMITTED


def serious_findings(policy: dict[str, Any], *, community: bool = False) -> list[tuple[str, Any]]:
    """parliament's findings of medium severity or worse, rated as its CLI rates them."""
    if community:
        parliament.override_config(COMMUNITY_CONFIG)
    findings = analyze_policy_string(iam.dumps(policy), include_community_auditors=community).findings
    rated = [parliament.enhance_finding(f) for f in findings]
    return [
        (f.issue, f.location) for f in rated if SEVERITIES.index(f.severity) >= SEVERITIES.index("MEDIUM")
    ]


@cache
def configured_plan() -> PlanResult:
    """A plan with every kind of task (Lambda, Glue, EMR Serverless) and a schedule."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_project(Path(tmp), CONFIGURED, "configured_iam.py")
        return plan(str(path), options=DeployOptions(build_layer=False, schedule="rate(1 hour)"))


def declared_policies() -> list[tuple[str, dict[str, Any]]]:
    found = []
    for result in [*(example_plan(path) for path in EXAMPLES), configured_plan()]:
        for kind in ("aws:iam/rolePolicy:RolePolicy", "aws:s3/bucketPolicy:BucketPolicy"):
            found += [(r.name, json.loads(r.inputs["policy"])) for r in result.by_type(kind)]
    return found


def test_parliament_finds_nothing_medium_or_worse() -> None:
    policies = declared_policies()
    assert len(policies) > 40
    for name, policy in policies:
        assert serious_findings(policy) == [], name


def test_parliament_community_auditors_flag_only_the_documented_log_delivery_action() -> None:
    # Step Functions logging needs logs:PutResourcePolicy (AWS documents it) and an EMR
    # Serverless .sync task needs iam:PassRole; nothing else any community auditor rates
    # medium or worse.
    flagged = 0
    for name, policy in declared_policies():
        for issue, location in serious_findings(policy, community=True):
            assert issue == "PERMISSIONS_MANAGEMENT_ACTIONS", (name, issue)
            # iam:PassRole only where an EMR job needs its role (resource- and service-scoped).
            assert set(location["actions"]) <= {"logs:putresourcepolicy", "iam:passrole"}, name
            flagged += 1
    assert flagged  # the auditors did run


def test_parliament_does_flag_a_sloppy_policy() -> None:
    # An object action on a bucket ARN: the check our policies pass is a real one.
    sloppy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::data"}],
    }
    assert [issue for issue, _ in serious_findings(sloppy)] == ["RESOURCE_MISMATCH"]


def test_no_wildcard_actions_and_resource_star_only_for_log_delivery() -> None:
    for name, policy in declared_policies():
        for statement in policy["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if statement["Effect"] == "Allow":
                assert all("*" not in action for action in actions), name
            if "*" in statement["Resource"]:
                assert statement["Sid"] == "DeliverLogs", name


def _object_arn(bucket: str, path: str) -> str:
    key = f"{path}part-0.parquet" if path.endswith("/") else path
    return f"arn:aws:s3:::{bucket}/{key}"


@pytest.mark.parametrize("path", EXAMPLES)
def test_no_role_can_write_a_dataset_other_than_its_output(path: str) -> None:
    result = example_plan(path)
    pipelines = load_pipelines(REPO / path).pipelines
    every_dataset = {ds.id: ds for p in pipelines for ds in p.dag.datasets}
    for compiled in pipelines:
        for task in compiled.dag.tasks:
            policy = json.loads(result.get(f"{compiled.name}-{task.name}-policy").inputs["policy"])
            for dataset_id, ds in every_dataset.items():
                arn = _object_arn(ds.bucket, ds.path)
                for action in ("s3:PutObject", "s3:DeleteObject"):
                    may_write = permitted(policy, action, arn)
                    if action == "s3:PutObject":
                        assert may_write == (dataset_id == task.output), (task.name, dataset_id)
                    else:
                        assert not may_write or dataset_id == task.output
                may_read = permitted(policy, "s3:GetObject", arn)
                readable = {*task.inputs.values(), task.output}  # its output: to check it after writing
                assert may_read == (dataset_id in readable), (task.name, dataset_id, "read")


def test_listing_is_limited_to_the_task_prefixes() -> None:
    result = example_plan("examples/seed_000/core_multi_source.py")
    policy = json.loads(result.get("sales_join-join_data-policy").inputs["policy"])
    lists = [
        s
        for s in policy["Statement"]
        if s["Action"] == ["s3:ListBucket"] and s["Resource"] == ["arn:aws:s3:::data"]
    ]
    assert lists and all("s3:prefix" in s["Condition"]["StringLike"] for s in lists)
    prefixes = sorted(p for s in lists for p in s["Condition"]["StringLike"]["s3:prefix"])
    assert prefixes == [
        ".glacier-tmp-*-joined.parquet",
        ".glacier-tmp-staging-joined.parquet/*",  # a Spark task stages its part files here
        "customers.parquet",
        "joined.parquet",
        "sales.parquet",
    ]


def test_staging_keys_are_writable_only_beside_the_output() -> None:
    result = example_plan("examples/seed_000/core_single_source.py")
    policy = json.loads(result.get("etl_pipeline-clean-policy").inputs["policy"])
    staged = "arn:aws:s3:::data-lake/processed/.glacier-tmp-4242-a1b2c3d4-cleaned.parquet"
    for action in ("s3:PutObject", "s3:GetObject", "s3:DeleteObject"):
        assert permitted(policy, action, staged)
    assert not permitted(
        policy, "s3:PutObject", "arn:aws:s3:::data-lake/processed/.glacier-tmp-1-x-other.parquet"
    )
    assert not permitted(
        policy, "s3:PutObject", "arn:aws:s3:::data-lake/output/.glacier-tmp-1-x-result.parquet"
    )
    assert not permitted(policy, "s3:DeleteObject", "arn:aws:s3:::data-lake/processed/cleaned.parquet")


def test_state_machine_may_invoke_only_its_own_functions_and_jobs() -> None:
    result = example_plan("examples/seed_000/example3_join.py")
    outputs = result.outputs
    every_function = {f for o in outputs.values() for f in o["functions"].values()}
    every_job = {j for o in outputs.values() for j in o["jobs"].values()}
    assert every_function and every_job
    for pipeline, out in outputs.items():
        policy = json.loads(result.get(f"{pipeline}-sfn-policy").inputs["policy"])
        arns = iam.Arns("aws", "us-east-1", "123456789012")
        for fn in every_function:
            assert permitted(policy, "lambda:InvokeFunction", arns.function(fn)) == (
                fn in out["functions"].values()
            )
        for job in every_job:
            assert permitted(policy, "glue:StartJobRun", arns.glue_job(job)) == (job in out["jobs"].values())
        assert not permitted(
            policy, "states:StartExecution", arns.state_machine(naming.state_machine_name(pipeline))
        )


def test_roles_trust_only_their_service() -> None:
    result = example_plan("examples/seed_000/core_multi_source.py")
    services = {
        r.name: json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Service"]
        for r in result.by_type("aws:iam/role:Role")
    }
    assert services == {
        "sales_join-join_data-role": "glue.amazonaws.com",
        "sales_join-summarize-role": "lambda.amazonaws.com",
        "sales_join-sfn-role": "states.amazonaws.com",
    }


def test_task_logs_only_to_its_own_group() -> None:
    result = example_plan("examples/seed_000/example1_simple_etl.py")
    policy = json.loads(result.get("simple_etl-process-policy").inputs["policy"])
    logs = next(s for s in policy["Statement"] if s["Sid"] == "WriteLogs")
    assert logs["Resource"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/simple_etl-process:log-stream:*"
    ]


def test_emr_pass_role_is_scoped_to_the_job_role_and_service() -> None:
    policy = json.loads(configured_plan().get("configured_emr-sfn-policy").inputs["policy"])
    (passing,) = [s for s in policy["Statement"] if s["Sid"] == "PassEmrRoles"]
    assert passing["Resource"] == ["arn:aws:iam::123456789012:role/configured_emr-heavier-role"]
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "emr-serverless.amazonaws.com"}}


def test_roles_trust_their_service_only_for_their_own_account() -> None:
    result = configured_plan()
    roles = result.by_type("aws:iam/role:Role")
    assert len(roles) >= 4  # Lambda, Glue, EMR Serverless, Step Functions and Scheduler roles
    for role in roles:
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRole"
        assert statement["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}, role.name


KEY = "arn:{partition}:kms:{region}:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def _partition_plan(tmp: Path, region: str, partition: str, *, kms: bool = False) -> PlanResult:
    """CONFIGURED (Lambda, Glue and EMR tasks, an external bucket) in ``region``, scheduled."""
    config = f'region="{region}"' + (
        f', kms_key_arn="{KEY.format(partition=partition, region=region)}"' if kms else ""
    )
    body = CONFIGURED.replace('AwsConfig(region="eu-west-1")', f"AwsConfig({config})")
    path = write_project(tmp, body, f"configured_{partition.replace('-', '_')}.py")
    return plan(str(path), options=DeployOptions(build_layer=False, schedule="rate(1 hour)"))


@pytest.mark.parametrize(("region", "partition"), [("cn-north-1", "aws-cn"), ("us-gov-west-1", "aws-us-gov")])
def test_plans_in_other_partitions_put_every_arn_in_that_partition(
    region: str, partition: str, tmp_path: Path
) -> None:
    result = _partition_plan(tmp_path, region, partition)
    text = result.dumps()
    found = set(re.findall(r"arn:([a-z0-9-]*):", text))
    assert found == {partition}, found
    # The state machines' service integrations, and the principals AWS documents for them.
    for machine in result.by_type("aws:sfn/stateMachine:StateMachine"):
        definition = json.loads(machine.inputs["definition"])
        for state in definition["States"].values():
            if state["Type"] == "Task":
                assert state["Resource"].startswith(f"arn:{partition}:states:::"), state["Resource"]
    principals = {
        json.loads(r.inputs["assumeRolePolicy"])["Statement"][0]["Principal"]["Service"]
        for r in result.by_type("aws:iam/role:Role")
    }
    assert principals == {
        f"{s}.amazonaws.com" for s in ("lambda", "glue", "emr-serverless", "states", "scheduler")
    }
    # Every policy is clean for parliament, every definition for asl-validator.
    for kind in ("aws:iam/rolePolicy:RolePolicy", "aws:s3/bucketPolicy:BucketPolicy"):
        for r in result.by_type(kind):
            assert serious_findings(json.loads(r.inputs["policy"])) == [], r.name
    args = []
    for r in result.by_type("aws:sfn/stateMachine:StateMachine"):
        path = tmp_path / f"{r.name}.json"
        path.write_text(r.inputs["definition"])
        args += ["--json-path", str(path)]
    validator = REPO / "node_modules" / ".bin" / "asl-validator"
    done = subprocess.run([str(validator), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("region", "partition", "via"),
    [
        ("eu-west-1", "aws", "s3.eu-west-1.amazonaws.com"),
        ("cn-north-1", "aws-cn", "s3.cn-north-1.amazonaws.com.cn"),
    ],
)
def test_a_storage_kms_key_is_granted_to_task_roles_only_through_s3(
    region: str, partition: str, via: str, tmp_path: Path
) -> None:
    result = _partition_plan(tmp_path, region, partition, kms=True)
    key = KEY.format(partition=partition, region=region)
    task_policies = [
        json.loads(result.get(f"{p}-{t}-policy").inputs["policy"])
        for p, t in (("configured", "enrich"), ("configured_spark", "heavy"), ("configured_emr", "heavier"))
    ]
    for policy in task_policies:
        (grant,) = [s for s in policy["Statement"] if s["Sid"] == "UseStorageKey"]
        assert grant["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
        assert grant["Resource"] == [key]
        assert grant["Condition"] == {"StringEquals": {"kms:ViaService": via}}
        assert serious_findings(policy) == []
        assert permitted(policy, "kms:Decrypt", key)
        assert not permitted(policy, "kms:Decrypt", key.replace("1234abcd", "9999abcd"))
    # The state machine's role gets no key; without a key no task role does either.
    machine = json.loads(result.get("configured-sfn-policy").inputs["policy"])
    assert not [s for s in machine["Statement"] if "kms:Decrypt" in s["Action"]]
    plain = json.loads(configured_plan().get("configured-enrich-policy").inputs["policy"])
    assert not [s for s in plain["Statement"] if s["Sid"] == "UseStorageKey"]
