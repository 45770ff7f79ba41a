"""Where a dataset lives, and the Polars ``storage_options`` that reach it.

``LocalConfig(base_path)``: bucket ``b``, path ``p`` -> ``base_path/b/p``.
``AwsConfig``: ``s3://b/p``. This module is the one reader of the AWS environment:
``aws_environment`` takes region, endpoint and profile from the ``AwsConfig`` and the standard
variables (AWS_REGION / AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL, AWS_PROFILE);
the credentials come from botocore's full chain (``glacier.io.s3``), resolved into the options
that Polars and the S3 client both use.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from glacier.config import AwsConfig, LocalConfig, StorageConfig

if TYPE_CHECKING:
    from glacier.dag.model import DatasetNode

StorageOptions = dict[str, str]


@dataclass(frozen=True)
class AwsEnvironment:
    """Where and as whom S3 is reached. ``None`` leaves the choice to botocore (a profile's
    region, the default credential chain)."""

    region: str | None
    endpoint_url: str | None
    profile: str | None


def aws_environment(
    config: AwsConfig | None = None, environ: Mapping[str, str] = os.environ
) -> AwsEnvironment:
    """An explicit ``AwsConfig`` wins; the environment fills in what it leaves open (the
    region only when there is no config: Lambda and Glue name theirs in AWS_REGION)."""
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None
    endpoint = environ.get("AWS_ENDPOINT_URL_S3") or environ.get("AWS_ENDPOINT_URL") or None
    profile = environ.get("AWS_PROFILE") or None
    if config is None:
        return AwsEnvironment(region=region, endpoint_url=endpoint, profile=profile)
    return AwsEnvironment(
        region=config.region,
        endpoint_url=config.endpoint_url or endpoint,
        profile=config.profile or profile,
    )


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def dataset_uri(dataset: DatasetNode, storage: StorageConfig) -> str:
    """The URI (s3://...) or local path of a dataset. Directory datasets end in '/'."""
    if isinstance(storage, LocalConfig):
        path = os.path.join(storage.base_path, dataset.bucket, dataset.path)
        return path
    return f"s3://{dataset.bucket}/{dataset.path}"


def storage_options(storage: StorageConfig) -> StorageOptions | None:
    """Polars storage options for ``storage`` (None for the local filesystem)."""
    if isinstance(storage, LocalConfig):
        return None
    return aws_storage_options(storage)


def aws_storage_options(
    config: AwsConfig | None = None, environ: Mapping[str, str] = os.environ
) -> StorageOptions:
    """Options for Polars and ``S3Client``: region, endpoint and addressing, and credentials
    resolved once through botocore's chain (raises a one-line ExecutionError if none)."""
    # botocore is imported only here: a local run never pays for it.
    from glacier.io.s3 import resolve_storage_options

    return resolve_storage_options(aws_environment(config, environ))


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    rest = uri.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key
