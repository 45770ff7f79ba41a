"""Shared fixtures: a real S3 (and Step Functions) HTTP API from moto on 127.0.0.1."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

MOTO_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto server for the session: http://127.0.0.1:<port>. AWS credentials in the
    environment point at fakes for as long as it runs."""
    from moto.server import ThreadedMotoServer

    saved = {key: os.environ.get(key) for key in MOTO_ENV}
    os.environ.update(MOTO_ENV)
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture
def s3_client(moto_endpoint: str):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1")


@pytest.fixture
def fresh_bucket(s3_client, request: pytest.FixtureRequest) -> str:  # type: ignore[no-untyped-def]
    """A new, empty S3 bucket on the moto server, named after the test."""
    import re

    name = re.sub(r"[^a-z0-9-]+", "-", request.node.name.lower())[:50].strip("-") + f"-{_free_port()}"
    s3_client.create_bucket(Bucket=name)
    return name
