"""One line for every S3 failure: the operation, the object, what S3 said, and a fix that
fits the kind of error (credentials, access, missing bucket, throttling, network, endpoint)."""

from __future__ import annotations

from typing import Any

from glacier.errors import ExecutionError

# The IAM action each operation is authorised against (what a role must be granted).
ACTIONS = {
    "HeadObject": "s3:GetObject",
    "GetObject": "s3:GetObject",
    "ListObjectsV2": "s3:ListBucket",
    "CopyObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPartCopy": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "DeleteObject": "s3:DeleteObject",
}

_CREDENTIAL_CODES = {
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "InvalidToken",
    "TokenRefreshRequired",
    "InvalidClientTokenId",
    "RequestTimeTooSkewed",
}
_ACCESS_CODES = {"AccessDenied", "AllAccessDisabled", "403", "Forbidden"}
_THROTTLING_CODES = {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "503"}
_SERVER_CODES = {"InternalError", "ServiceUnavailable", "500", "502", "504"}
_REGION_CODES = {"PermanentRedirect", "AuthorizationHeaderMalformed", "301", "TemporaryRedirect"}


def describe(
    operation: str,
    bucket: str,
    key: str,
    exc: BaseException,
    *,
    region: str,
    partition: str,
    endpoint: str | None,
) -> ExecutionError:
    """The ExecutionError for ``exc``, raised by ``operation`` on ``s3://bucket/key``."""
    from botocore import exceptions as bce

    target = f"s3://{bucket}/{key}"
    if isinstance(exc, bce.ClientError):
        return _client_error(operation, bucket, key, exc, region, partition, endpoint)
    where = endpoint or f"S3 in {region}"
    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError | bce.CredentialRetrievalError):
        problem = f"S3 {operation} of {target} failed: no usable AWS credentials ({_text(exc)})."
        return ExecutionError(problem, fix=CREDENTIALS_FIX)
    if isinstance(exc, bce.ProfileNotFound | bce.SSOError | bce.TokenRetrievalError):
        problem = f"S3 {operation} of {target} failed: {_text(exc)}."
        return ExecutionError(problem, fix=CREDENTIALS_FIX)
    if isinstance(exc, bce.ConnectionError | bce.HTTPClientError):
        problem = f"S3 {operation} of {target} failed: could not reach {where} ({_text(exc)})."
        fix = (
            f"check that {endpoint} is the right endpoint_url (AWS_ENDPOINT_URL) and its server is running."
            if endpoint
            else "check the network connection (and any proxy) to S3, then run again."
        )
        return ExecutionError(problem, fix=fix)
    return ExecutionError(
        f"S3 {operation} of {target} failed: {type(exc).__name__}: {_text(exc)}.",
        fix="check the bucket, key and AWS configuration, then run again.",
    )


def _client_error(
    operation: str, bucket: str, key: str, exc: Any, region: str, partition: str, endpoint: str | None
) -> ExecutionError:
    error = exc.response.get("Error", {})
    meta = exc.response.get("ResponseMetadata", {})
    code = str(error.get("Code") or meta.get("HTTPStatusCode") or "Unknown")
    status = int(meta.get("HTTPStatusCode") or 0)
    message = _text(error.get("Message") or "") or f"HTTP {status}"
    attempts = int(meta.get("RetryAttempts", 0)) + 1
    target = f"s3://{bucket}/{key}"
    said = f"{code}: {message}" if message != code else code
    problem = f"S3 {operation} of {target} failed: {said}"
    if attempts > 1:
        problem += f" (after {attempts} attempts)"
    problem += "."
    resource = f"arn:{partition}:s3:::{bucket}" + ("" if operation == "ListObjectsV2" else f"/{key}")
    if code in _CREDENTIAL_CODES:
        fix = "the AWS credentials were refused (a wrong secret, or an expired session): " + CREDENTIALS_FIX
    elif code in _ACCESS_CODES:
        action = ACTIONS.get(operation, f"s3:{operation}")
        fix = (
            f"allow {action} on {resource} for the role or user running this (its IAM policy), or run "
            "with credentials that have it."
        )
    elif code == "NoSuchBucket":
        fix = f"create bucket '{bucket}', or correct the bucket name (and region) in the pipeline."
    elif code in ("NoSuchKey", "404") or (status == 404 and not endpoint):
        fix = f"check that '{key}' exists in bucket '{bucket}' (run the task that writes it first)."
    elif code in _THROTTLING_CODES:
        fix = (
            "S3 is throttling these requests: run again later, allow more attempts (AWS_MAX_ATTEMPTS, "
            "AWS_RETRY_MODE=adaptive), or spread the data over more key prefixes."
        )
    elif code in _SERVER_CODES or status >= 500:
        fix = "S3 failed on its side: run again (AWS_MAX_ATTEMPTS allows more attempts)."
    elif code in _REGION_CODES:
        fix = (
            f"bucket '{bucket}' is in another region than {region}: set AwsConfig(region=...) to its region."
        )
    elif endpoint:
        fix = (
            f"check that endpoint_url {endpoint} (or AWS_ENDPOINT_URL) is an S3 API and bucket "
            f"'{bucket}' exists there."
        )
    else:
        fix = "check the bucket, key and AWS configuration, then run again."
    return ExecutionError(problem, fix=fix)


CREDENTIALS_FIX = (
    "give the run AWS credentials: a named profile (AwsConfig(profile=...) or AWS_PROFILE, "
    "with `aws sso login --profile NAME` for SSO), AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
    "or a role on the machine it runs on."
)


def credentials_error(where: str, exc: BaseException) -> ExecutionError:
    """Resolving credentials failed (a missing profile, an expired SSO session ...)."""
    return ExecutionError(f"Could not get AWS credentials from {where}: {_text(exc)}.", fix=CREDENTIALS_FIX)


def _text(value: object) -> str:
    return " ".join(str(value).split()).rstrip(".")
