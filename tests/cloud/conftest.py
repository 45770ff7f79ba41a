"""Fixtures for the cloud tests: moto's Step Functions interpreter and Lambda without Docker."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest


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
