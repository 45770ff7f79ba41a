"""Whole small objects on S3 (a directory dataset's manifest): get and put, on botocore.

``glacier.io.s3.S3Client`` offers head / list / copy / delete; a manifest also needs its
bytes read and written in one request each (one PUT is atomic: readers see the old manifest
or the new one). botocore gets the same options Polars gets (``StorageOptions``).
"""

from __future__ import annotations

import threading
from typing import Any

from glacier.errors import ExecutionError
from glacier.io.location import StorageOptions

_clients: dict[tuple[str, tuple[tuple[str, str], ...]], Any] = {}
_lock = threading.Lock()


def botocore_client(service: str, options: StorageOptions | None) -> Any:
    """One botocore client per service and options (the credentials, region and endpoint
    Polars gets), made once: clients are thread-safe and slow to make."""
    key = (service, tuple(sorted((options or {}).items())))
    with _lock:
        if key not in _clients:
            import botocore.session
            from botocore.config import Config

            opts = dict(key[1])
            session = botocore.session.Session(profile=opts.get("aws_profile"))
            path_style = opts.get("aws_virtual_hosted_style_request") == "false"
            addressing = (
                {"s3": {"addressing_style": "path" if path_style else "auto"}} if service == "s3" else {}
            )
            _clients[key] = session.create_client(
                service,
                region_name=opts.get("aws_region", "us-east-1"),
                endpoint_url=opts.get("aws_endpoint_url"),
                aws_access_key_id=opts.get("aws_access_key_id"),
                aws_secret_access_key=opts.get("aws_secret_access_key"),
                aws_session_token=opts.get("aws_session_token"),
                config=Config(retries={"mode": "standard"}, **addressing),
            )
        return _clients[key]


def _client(options: StorageOptions | None) -> Any:
    return botocore_client("s3", options)


def _failed(operation: str, bucket: str, key: str, exc: Exception) -> ExecutionError:
    return ExecutionError(
        f"S3 {operation} s3://{bucket}/{key} failed: {exc}",
        fix="check the bucket exists and the credentials may read and write it.",
    )


def get_bytes(bucket: str, key: str, options: StorageOptions | None) -> bytes | None:
    """The object's bytes, or None when there is no such key."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = _client(options).get_object(Bucket=bucket, Key=key)
        return bytes(response["Body"].read())
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
            return None
        raise _failed("GET", bucket, key, exc) from None
    except BotoCoreError as exc:
        raise _failed("GET", bucket, key, exc) from None


def put_bytes(bucket: str, key: str, body: bytes, options: StorageOptions | None) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        _client(options).put_object(Bucket=bucket, Key=key, Body=body)
    except (ClientError, BotoCoreError) as exc:
        raise _failed("PUT", bucket, key, exc) from None
