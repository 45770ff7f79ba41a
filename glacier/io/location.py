"""Where a dataset lives, and the Polars ``storage_options`` that reach it.

``LocalConfig(base_path)``: bucket ``b``, path ``p`` -> ``base_path/b/p``.
``AwsConfig``: ``s3://b/p``, with options built from ``AwsConfig.endpoint_url`` and region and
the standard AWS environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_SESSION_TOKEN, AWS_ENDPOINT_URL(_S3), AWS_REGION / AWS_DEFAULT_REGION). An ``http://``
endpoint (moto, MinIO) also sets ``aws_allow_http``.
"""

from __future__ import annotations

import os

from glacier.config import AwsConfig, LocalConfig, StorageConfig
from glacier.dag.model import DatasetNode

StorageOptions = dict[str, str]


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


def aws_storage_options(config: AwsConfig | None = None) -> StorageOptions:
    env = os.environ
    options: StorageOptions = {}
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
    # An explicit config region wins; the environment fills in when there is no config.
    options["aws_region"] = config.region if config is not None else (region or "us-east-1")
    endpoint = (
        (config.endpoint_url if config is not None else None)
        or env.get("AWS_ENDPOINT_URL_S3")
        or env.get("AWS_ENDPOINT_URL")
    )
    if endpoint:
        options["aws_endpoint_url"] = endpoint
        if endpoint.startswith("http://"):
            options["aws_allow_http"] = "true"
        # Custom endpoints (moto, MinIO) serve buckets as paths, not as subdomains.
        options["aws_virtual_hosted_style_request"] = "false"
    for option, variable in (
        ("aws_access_key_id", "AWS_ACCESS_KEY_ID"),
        ("aws_secret_access_key", "AWS_SECRET_ACCESS_KEY"),
        ("aws_session_token", "AWS_SESSION_TOKEN"),
    ):
        if env.get(variable):
            options[option] = env[variable]
    profile = (config.profile if config is not None else None) or env.get("AWS_PROFILE")
    if profile and "aws_access_key_id" not in options:
        options["aws_profile"] = profile
    return options


def split_s3(uri: str) -> tuple[str, str]:
    """``s3://bucket/key`` -> (bucket, key)."""
    rest = uri.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    return bucket, key
