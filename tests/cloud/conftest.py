"""Fixtures for the cloud tests: moto's Step Functions interpreter and Lambda without Docker,
and moto's IAM/STS with authentication enforced."""

from __future__ import annotations

import contextlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def pytest_configure(config: pytest.Config) -> None:
    # The plans these tests read import pulumi_aws, which warns about its own deprecated aliases.
    config.addinivalue_line("filterwarnings", "ignore::DeprecationWarning:pulumi_aws.*")


def _moto_config(endpoint: str, config: dict[str, Any]) -> None:
    import urllib.request

    request = urllib.request.Request(
        f"{endpoint}/moto-api/config",
        data=json.dumps(config).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        assert response.status == 201


@pytest.fixture
def sfn_interpreter(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto runs state machine definitions for real (its ASL interpreter), and invokes Lambda
    through its Docker-free backend, which answers with the invocation's own payload. The
    interpreter calls other services on localhost:$MOTO_PORT, our server."""
    monkeypatch.setenv("MOTO_PORT", moto_endpoint.rsplit(":", 1)[1])
    _moto_config(
        moto_endpoint, {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
    )
    try:
        yield moto_endpoint
    finally:
        _moto_config(
            moto_endpoint, {"stepfunctions": {"execute_state_machine": False}, "lambda": {"use_docker": True}}
        )


class MotoAws:
    """boto3 clients on the moto server, and helpers that create what a deployment would."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.sfn = boto3.client("stepfunctions", endpoint_url=endpoint, region_name="us-east-1")
        self.lambda_ = boto3.client("lambda", endpoint_url=endpoint, region_name="us-east-1")
        self.iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
        self.s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")

    def role(self, name: str) -> str:
        try:
            return str(self.iam.get_role(RoleName=name)["Role"]["Arn"])
        except self.iam.exceptions.NoSuchEntityException:
            return str(self.iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")["Role"]["Arn"])

    def function(self, name: str) -> str:
        """A Lambda function in moto (its code never runs: the Docker-free backend echoes)."""
        try:
            return str(self.lambda_.get_function(FunctionName=name)["Configuration"]["FunctionArn"])
        except self.lambda_.exceptions.ResourceNotFoundException:
            buffer = io.BytesIO()
            with zipfile.ZipFile(buffer, "w") as bundle:
                bundle.writestr("index.py", "def handler(event, context):\n    return event\n")
            created = self.lambda_.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=self.role("glacier-test-lambda"),
                Handler="index.handler",
                Code={"ZipFile": buffer.getvalue()},
            )
            return str(created["FunctionArn"])

    def state_machine(self, name: str, definition: dict[str, Any]) -> str:
        """(Re)create a state machine named ``name``."""
        for machine in self.sfn.list_state_machines()["stateMachines"]:
            if machine["name"] == name:
                self.sfn.delete_state_machine(stateMachineArn=machine["stateMachineArn"])
        created = self.sfn.create_state_machine(
            name=name, definition=json.dumps(definition), roleArn=self.role("glacier-test-sfn")
        )
        return str(created["stateMachineArn"])


@pytest.fixture
def aws(sfn_interpreter: str) -> MotoAws:
    return MotoAws(sfn_interpreter)


class EnforcedIam:
    """Roles and users in moto's IAM, credentials from its STS, and a switch that makes the
    server authenticate and authorise every request (moto's ``INITIAL_NO_AUTH_ACTION_COUNT``,
    set through its ``/moto-api/reset-auth`` endpoint, as ``set_initial_no_auth_action_count``
    does in server mode). Setup runs with authentication off: moto cannot evaluate a service
    principal's trust policy when a user calls AssumeRole, as Lambda or Glue would."""

    def __init__(self, endpoint: str) -> None:
        import boto3

        self.endpoint = endpoint
        self.iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1")
        self.sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1")

    def _set_no_auth_count(self, count: str) -> None:
        import urllib.request

        request = urllib.request.Request(
            f"{self.endpoint}/moto-api/reset-auth",
            data=count.encode(),
            headers={"Content-Type": "text/plain"},
            method="POST",
        )
        with urllib.request.urlopen(request) as response:
            assert response.status == 200

    @contextlib.contextmanager
    def enforced(self) -> Iterator[None]:
        """Authentication and IAM authorisation on every request, until the block ends."""
        self._set_no_auth_count("0")
        try:
            yield
        finally:
            self._set_no_auth_count("inf")

    def role(self, name: str, trust_policy: str, policy: str) -> str:
        """(Re)create role ``name`` with its trust policy and one inline policy; its ARN."""
        try:
            for policy_name in self.iam.list_role_policies(RoleName=name)["PolicyNames"]:
                self.iam.delete_role_policy(RoleName=name, PolicyName=policy_name)
            self.iam.delete_role(RoleName=name)
        except self.iam.exceptions.NoSuchEntityException:
            pass
        arn = str(self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust_policy)["Role"]["Arn"])
        self.iam.put_role_policy(RoleName=name, PolicyName=f"{name}-policy", PolicyDocument=policy)
        return arn

    def assume(self, role_arn: str, session: str = "glacier-task") -> dict[str, str]:
        """Temporary credentials of the role, as the environment variables Lambda sets."""
        creds = self.sts.assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
        return {
            "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
            "AWS_SESSION_TOKEN": creds["SessionToken"],
        }

    def task_role(self, planned: Any, pipeline: str, task: str) -> dict[str, str]:
        """The task's role as ``planned`` (a ``glacier plan`` result) declares it, created in
        moto's IAM and assumed through its STS: the credentials."""
        role = planned.get(f"{pipeline}-{task}-role").inputs
        policy = planned.get(f"{pipeline}-{task}-policy").inputs["policy"]
        return self.assume(self.role(role["name"], role["assumeRolePolicy"], policy))

    @contextlib.contextmanager
    def as_task(self, credentials: dict[str, str]) -> Iterator[None]:
        """The environment Lambda gives a function (its role's credentials, the region), the
        endpoint of the moto server, and every request authenticated and authorised."""
        with pytest.MonkeyPatch.context() as env:
            for name, value in {
                **credentials,
                "AWS_ENDPOINT_URL": self.endpoint,
                "AWS_REGION": "us-east-1",
            }.items():
                env.setenv(name, value)
            with self.enforced():
                yield

    def user(self, name: str, policy: dict[str, Any]) -> tuple[str, str]:
        """(Re)create IAM user ``name`` with one inline policy; a new (key id, secret)."""
        try:
            for key in self.iam.list_access_keys(UserName=name)["AccessKeyMetadata"]:
                self.iam.delete_access_key(UserName=name, AccessKeyId=key["AccessKeyId"])
            for policy_name in self.iam.list_user_policies(UserName=name)["PolicyNames"]:
                self.iam.delete_user_policy(UserName=name, PolicyName=policy_name)
            self.iam.delete_user(UserName=name)
        except self.iam.exceptions.NoSuchEntityException:
            pass
        self.iam.create_user(UserName=name)
        self.iam.put_user_policy(
            UserName=name, PolicyName=f"{name}-policy", PolicyDocument=json.dumps(policy)
        )
        key = self.iam.create_access_key(UserName=name)["AccessKey"]
        return str(key["AccessKeyId"]), str(key["SecretAccessKey"])


@pytest.fixture(scope="module")
def enforced_iam(moto_endpoint: str) -> EnforcedIam:
    return EnforcedIam(moto_endpoint)


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run history goes to a tmp folder (never the repository's .glacier)."""
    folder = tmp_path / "state"
    monkeypatch.setenv("GLACIER_STATE_DIR", str(folder))
    return folder
