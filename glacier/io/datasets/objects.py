"""Whole small objects on S3 (a directory dataset's manifest): get and put, on botocore.

``glacier.io.s3.S3Client`` offers head / list / copy / delete; a manifest also needs its
bytes read and written in one request each (one PUT is atomic: readers see the old manifest
or the new one). botocore gets the same options Polars gets (``StorageOptions``).
"""

from __future__ import annotations

from typing import Any

from glacier.errors import ExecutionError
from glacier.io.location import StorageOptions
from glacier.io.s3 import aws_client


def _client(options: StorageOptions | None) -> Any:
    return aws_client("s3", options)


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
