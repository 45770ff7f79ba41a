"""S3 through botocore: the credentials behind Polars' ``storage_options``, and the few
object operations Polars does not expose (head, list, copy, delete).

botocore brings what a hand-written client lacks: the full credential chain (environment,
named profiles in the shared files, web identity, SSO, container and instance metadata, with
refresh), retries with jitter in its ``standard`` mode (500/503 SlowDown, throttling,
dropped connections), S3's "200 with an <Error> body" rule for copies, region redirects,
virtual-hosted addressing, and every partition's endpoints. It ships with the Lambda and
Glue runtimes, so nothing extra is packaged. Every failure becomes one ``ExecutionError``
line naming the operation and the object, with a fix for its kind of error.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from glacier.errors import ExecutionError
from glacier.io.s3_errors import CREDENTIALS_FIX, credentials_error, describe

if TYPE_CHECKING:
    from botocore.session import Session

    from glacier.io.location import AwsEnvironment, StorageOptions

_COPY_LIMIT = 5 * 1024**3  # CopyObject's limit; larger objects are copied in parts
_PART_SIZE = 1024**3
_DEFAULT_REGION = "us-east-1"
_MAX_CLIENTS = 16
_T = TypeVar("_T")


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int
    etag: str
    version_id: str | None = None  # HEAD only, on a bucket with versioning


@dataclass(frozen=True)
class Partition:
    """An AWS partition (``aws``, ``aws-cn``, ``aws-us-gov`` ...) and its DNS suffix."""

    name: str
    dns_suffix: str


@functools.cache
def _partitions() -> tuple[dict[str, Any], ...]:
    from botocore.loaders import create_loader

    return tuple(create_loader().load_data("partitions")["partitions"])


def aws_partition(region: str) -> Partition:
    """The partition a region belongs to, from botocore's partition data."""
    import re

    partitions = _partitions()
    for data in partitions:
        if region in data.get("regions", {}) or re.match(data["regionRegex"], region):
            return Partition(data["id"], data["outputs"]["dnsSuffix"])
    default = partitions[0]
    return Partition(default["id"], default["outputs"]["dnsSuffix"])


# -- sessions and credentials -------------------------------------------------------------
_LOCK = threading.RLock()
_SESSIONS: dict[tuple[str | None, ...], Session] = {}
_CLIENTS: dict[tuple[object, ...], Any] = {}
# What botocore's chain reads: a change means a new session (cached credentials would be stale).
_CHAIN_VARIABLES = (
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)


def _session(profile: str | None) -> Session:
    """One botocore session per profile and credential environment, so refreshable
    credentials (SSO, assumed roles, instance metadata) are reused and refreshed."""
    import os

    key = (profile, *(os.environ.get(v) for v in _CHAIN_VARIABLES))
    with _LOCK:
        session = _SESSIONS.get(key)
        if session is None:
            import botocore.session

            session = botocore.session.Session(profile=profile)
            shared = next(iter(_SESSIONS.values()), None)
            if shared is not None:  # the service models are read from disk once
                session.register_component("data_loader", shared.get_component("data_loader"))
            _SESSIONS[key] = session
        return session


def resolve_storage_options(env: AwsEnvironment) -> StorageOptions:
    """Polars options for S3: credentials resolved once through botocore's chain, the region,
    and the endpoint with its addressing style."""
    where = f"profile '{env.profile}'" if env.profile else "the default AWS credential chain"
    session = _session(env.profile)
    try:
        region = env.region or session.get_config_variable("region") or _DEFAULT_REGION
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except Exception as exc:  # botocore's credential providers raise many kinds
        raise credentials_error(where, exc) from None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise ExecutionError(
            f"No AWS credentials found for S3 (looked in {where}).",
            fix=CREDENTIALS_FIX,
        )
    options: dict[str, str] = {"aws_region": region}
    options["aws_access_key_id"] = frozen.access_key
    options["aws_secret_access_key"] = frozen.secret_key
    if frozen.token:
        options["aws_session_token"] = frozen.token
    if env.endpoint_url:
        options["aws_endpoint_url"] = env.endpoint_url
        if env.endpoint_url.startswith("http://"):
            options["aws_allow_http"] = "true"
        # S3-compatible servers (moto, MinIO) serve buckets as paths, not as subdomains.
        options["aws_virtual_hosted_style_request"] = "false"
    elif aws_partition(region).dns_suffix != "amazonaws.com":
        # Polars builds *.amazonaws.com hosts itself: other partitions get their endpoint.
        options["aws_endpoint_url"] = _standard_endpoint(region)
        options["aws_virtual_hosted_style_request"] = "false"
    else:
        options["aws_virtual_hosted_style_request"] = "true"
    return options


def _standard_endpoint(region: str) -> str:
    return f"https://s3.{region}.{aws_partition(region).dns_suffix}"


# -- the client -----------------------------------------------------------------------------
class S3Client:
    """head / list / copy / delete on S3 with the credentials, region and endpoint that
    ``options`` (Polars storage options) name."""

    def __init__(self, options: Mapping[str, str] | None) -> None:
        self.options = dict(options or {})
        self.region, self.endpoint = _region_and_endpoint(self.options)
        self._client = _client("s3", self.options, self.region, self.endpoint)

    # -- operations ----------------------------------------------------------------------
    def head(self, bucket: str, key: str) -> S3Object | None:
        """The object's size and ETag, or None when there is no object at ``key``."""
        from botocore.exceptions import ClientError

        try:
            found = self._client.head_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if _status(exc) == 404 and _code(exc) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._failure("HeadObject", bucket, key, self._explain_head(bucket, key, exc)) from None
        except Exception as exc:
            raise self._failure("HeadObject", bucket, key, exc) from None
        etag = str(found.get("ETag", "")).strip('"')
        return S3Object(key, int(found["ContentLength"]), etag, found.get("VersionId"))

    def _explain_head(self, bucket: str, key: str, exc: Exception) -> Exception:
        """A HEAD error has no body, so a 403 cannot tell a wrong secret from a missing
        permission: ask once more with a one-byte GET, whose error names the reason."""
        from botocore.exceptions import ClientError

        if _code(exc) not in ("403", "400"):
            return exc
        try:
            self._client.get_object(Bucket=bucket, Key=key, Range="bytes=0-0")
        except ClientError as detailed:
            return detailed if _code(detailed) not in ("403", "400") else exc
        except Exception:  # the HEAD's own error is the one to report
            return exc
        return exc

    def list_level(self, bucket: str, prefix: str) -> tuple[list[S3Object], list[str]]:
        """The objects directly under ``prefix`` (a folder, ending in '/') and its sub-folders'
        prefixes, not what is inside them."""

        def run() -> tuple[list[S3Object], list[str]]:
            objects: list[S3Object] = []
            folders: list[str] = []
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=bucket, Prefix=prefix, Delimiter="/"
            )
            for page in pages:
                for item in page.get("Contents", ()):
                    objects.append(S3Object(item["Key"], int(item["Size"]), str(item["ETag"]).strip('"')))
                folders += [common["Prefix"] for common in page.get("CommonPrefixes", ())]
            return sorted(objects, key=lambda o: o.key), sorted(folders)

        return self._call("ListObjectsV2", bucket, prefix, run)

    def list(self, bucket: str, prefix: str) -> list[S3Object]:
        """Every object under ``prefix``, sorted by key."""

        def run() -> list[S3Object]:
            objects: list[S3Object] = []
            for page in self._client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
                for item in page.get("Contents", ()):
                    objects.append(S3Object(item["Key"], int(item["Size"]), str(item["ETag"]).strip('"')))
            return sorted(objects, key=lambda o: o.key)

        return self._call("ListObjectsV2", bucket, prefix, run)

    def copy(self, bucket: str, source_key: str, target_key: str) -> None:
        """Server-side copy; the target appears whole when the copy completes, or not at all.
        botocore turns S3's "200 OK with an <Error> body" into an error, retried as AWS
        advises; a copy that still fails raises."""
        head = self.head(bucket, source_key)
        if head is None:
            raise ExecutionError(
                f"S3 CopyObject of s3://{bucket}/{source_key} to '{target_key}' failed: the source "
                "object does not exist.",
                fix="check nothing else deletes the staged object while the task publishes it, then "
                "run again.",
            )
        source = {"Bucket": bucket, "Key": source_key}
        if head.size <= _COPY_LIMIT:
            result = self._call(
                "CopyObject",
                bucket,
                target_key,
                lambda: self._client.copy_object(Bucket=bucket, Key=target_key, CopySource=source),
            )
            if "CopyObjectResult" not in result:
                raise ExecutionError(
                    f"S3 CopyObject to s3://{bucket}/{target_key} answered without a copy result.",
                    fix="check the endpoint is an S3 API, then run again.",
                )
            return
        self._copy_in_parts(bucket, source, target_key, head.size)

    def _copy_in_parts(self, bucket: str, source: dict[str, str], target_key: str, size: int) -> None:
        """CopyObject stops at 5 GB: copy in parts; the object appears on completion only."""
        started = self._call(
            "CreateMultipartUpload",
            bucket,
            target_key,
            lambda: self._client.create_multipart_upload(Bucket=bucket, Key=target_key),
        )
        upload_id = started["UploadId"]
        try:
            parts = []
            for number, start in enumerate(range(0, size, _PART_SIZE), start=1):
                end = min(start + _PART_SIZE, size) - 1
                copied = self._call(
                    "UploadPartCopy",
                    bucket,
                    target_key,
                    functools.partial(
                        self._client.upload_part_copy,
                        Bucket=bucket,
                        Key=target_key,
                        UploadId=upload_id,
                        PartNumber=number,
                        CopySource=source,
                        CopySourceRange=f"bytes={start}-{end}",
                    ),
                )
                parts.append({"PartNumber": number, "ETag": copied["CopyPartResult"]["ETag"]})
            self._call(
                "CompleteMultipartUpload",
                bucket,
                target_key,
                lambda: self._client.complete_multipart_upload(
                    Bucket=bucket, Key=target_key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                ),
            )
        except BaseException:
            # Leave no half-copied upload behind (S3 bills its parts until it is aborted); the
            # copy's own error is the one to report.
            with contextlib.suppress(Exception):
                self._client.abort_multipart_upload(Bucket=bucket, Key=target_key, UploadId=upload_id)
            raise

    def delete(self, bucket: str, key: str) -> None:
        """Delete ``key`` (no error when it is already gone)."""
        self._call("DeleteObject", bucket, key, lambda: self._client.delete_object(Bucket=bucket, Key=key))

    # -- errors ----------------------------------------------------------------------------
    def _call(self, operation: str, bucket: str, key: str, run: Callable[[], _T]) -> _T:
        try:
            return run()
        except ExecutionError:
            raise
        except Exception as exc:
            raise self._failure(operation, bucket, key, exc) from None

    def _failure(self, operation: str, bucket: str, key: str, exc: BaseException) -> ExecutionError:
        partition = aws_partition(self.region).name
        return describe(
            operation, bucket, key, exc, region=self.region, partition=partition, endpoint=self.endpoint
        )


def aws_client(service: str, options: Mapping[str, str] | None) -> Any:
    """A botocore client of ``service`` (e.g. "glue") with the credentials, region and
    endpoint that ``options`` (Polars storage options) name, as S3Client uses for S3."""
    opts = dict(options or {})
    return _client(service, opts, *_region_and_endpoint(opts))


def _region_and_endpoint(options: Mapping[str, str]) -> tuple[str, str | None]:
    region = options.get("aws_region") or _DEFAULT_REGION
    endpoint = options.get("aws_endpoint_url")
    # The partition's own endpoint is not a custom one: keep redirects and virtual hosts.
    return region, None if endpoint == _standard_endpoint(region) else endpoint


def _client(service: str, options: Mapping[str, str], region: str, endpoint: str | None) -> Any:
    """One botocore client per service and set of options (clients are thread-safe; making
    one is slow)."""
    cache_key = (service, *sorted(options.items()))
    with _LOCK:
        client = _CLIENTS.get(cache_key)
        if client is not None:
            return client
        from botocore.config import Config

        session = _session(options.get("aws_profile"))
        try:
            retry_mode = session.get_config_variable("retry_mode") or "standard"
        except Exception as exc:  # e.g. a profile that is not defined
            raise credentials_error("the AWS configuration", exc) from None
        config = Config(
            region_name=region,
            retries={"mode": retry_mode},
            # Virtual-hosted addressing on AWS; S3-compatible servers serve paths.
            s3={"addressing_style": "path" if endpoint else "virtual"} if service == "s3" else None,
            connect_timeout=10,
            read_timeout=120,
            user_agent_extra="glacier",
        )
        try:
            client = session.create_client(
                service,
                region_name=region,
                endpoint_url=endpoint,
                aws_access_key_id=options.get("aws_access_key_id"),
                aws_secret_access_key=options.get("aws_secret_access_key"),
                aws_session_token=options.get("aws_session_token"),
                config=config,
            )
        except Exception as exc:
            raise credentials_error("the AWS configuration", exc) from None
        if len(_CLIENTS) >= _MAX_CLIENTS:  # credentials rotate: do not keep every client
            _CLIENTS.pop(next(iter(_CLIENTS)))
        _CLIENTS[cache_key] = client
        return client


def _status(exc: Any) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _code(exc: Any) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
