"""Configuration: where data lives (AwsConfig, LocalConfig) and how tasks run
(LambdaConfig, SparkConfig).

They are plain frozen classes (``glacier.config_fields.GlacierConfig``), so importing them (a
user's pipeline module does, also at a Lambda cold start) does not import pydantic. A value
is judged when the config is constructed: the common case (right types, in range) by plain
code from the fields below; anything else (a wrong type, a value out of range, an unknown
field, a value pydantic would coerce such as ``memory="2048"``) by a pydantic model derived
from the same fields, built on first need. So the errors and coercions are pydantic's, and
so is how the typed DAG (pydantic) validates and serializes a config.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from glacier.config_fields import GlacierConfig, setting

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
# A key ARN, not an alias: IAM grants on KMS name keys.
_KMS_KEY = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")

__all__ = [
    "WORKER_SIZES",
    "AwsConfig",
    "ExecutorConfig",
    "GlacierConfig",
    "LambdaConfig",
    "LocalConfig",
    "SparkConfig",
    "StorageConfig",
    "WorkerSize",
]


# -- the rules of individual fields -------------------------------------------------------------


def _region_shape(value: str, _: Mapping[str, Any]) -> str:
    if not _REGION.match(value):
        raise ValueError("must look like an AWS region such as 'us-east-1' or 'eu-west-2'")
    return value


def _http_endpoint(value: str | None, _: Mapping[str, Any]) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


def _aws_tag_limits(value: dict[str, str], _: Mapping[str, Any]) -> dict[str, str]:
    if len(value) > 50:
        raise ValueError("AWS allows at most 50 tags per resource")
    for key, tag_value in value.items():
        if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
            raise ValueError(f"tag key {key!r} must be 1-128 characters and not start with 'aws:'")
        if len(tag_value) > 256:
            raise ValueError(f"tag {key!r} value must be at most 256 characters")
    return value


def _kms_key(value: str | None, earlier: Mapping[str, Any]) -> str | None:
    if value is None:
        return value
    region = earlier.get("region", "us-east-1")
    if not _KMS_KEY.match(value):
        raise ValueError(
            f"must be a KMS key ARN (not an alias), e.g. 'arn:aws:kms:{region}:123456789012:key/<id>'"
        )
    if value.split(":")[3] != region:
        raise ValueError(
            f"must be a key in the buckets' region {region} (S3 uses keys of its own region only)"
        )
    return value


_ECR_IMAGE = re.compile(
    r"^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+(:[\w.-]+|@sha256:[0-9a-f]{64})$"
)


def _emr_image(value: str | None, earlier: Mapping[str, Any]) -> str | None:
    if value is None:
        return value
    if earlier.get("engine") != "emr-serverless":
        raise ValueError("is for engine='emr-serverless' only (a Glue job runs Glue's own image)")
    if not _ECR_IMAGE.match(value):
        raise ValueError(
            "must be an ECR image URI, e.g. '123456789012.dkr.ecr.us-east-1.amazonaws.com/glacier-emr:py311'"
        )
    return value


def _directory(value: str, _: Mapping[str, Any]) -> str:
    if not value.strip():
        raise ValueError("must be a directory path")
    return value


# -- the configs --------------------------------------------------------------------------------


class AwsConfig(GlacierConfig):
    """Data lives in S3; tasks deploy to AWS."""

    kind: Literal["aws"] = "aws"
    region: str = setting(default="us-east-1", check=_region_shape)
    profile: str | None = None
    endpoint_url: str | None = setting(
        default=None,
        description="an S3-compatible endpoint, e.g. http://127.0.0.1:5000 for moto",
        check=_http_endpoint,
    )
    tags: dict[str, str] = setting(default_factory=dict, check=_aws_tag_limits)
    kms_key_arn: str | None = setting(
        default=None,
        description="the KMS key that encrypts this provider's buckets (SSE-KMS)",
        check=_kms_key,
        omit_if_none=True,
    )


class LocalConfig(GlacierConfig):
    """Data lives on the local filesystem: bucket ``b``, path ``p`` -> ``base_path/b/p``."""

    kind: Literal["local"] = "local"
    base_path: str = setting(default="./data", check=_directory)


StorageConfig = AwsConfig | LocalConfig


class LambdaConfig(GlacierConfig):
    """How a serverless (or local) task runs as an AWS Lambda function."""

    kind: Literal["lambda"] = "lambda"
    memory: int = setting(default=1024, ge=128, le=10240, description="MB")
    timeout: int = setting(default=900, ge=1, le=900, description="seconds")
    ephemeral_storage: int = setting(default=512, ge=512, le=10240, description="MB of /tmp")
    architecture: Literal["arm64", "x86_64"] = "arm64"
    python_version: Literal["3.12", "3.13"] = "3.12"


class SparkConfig(GlacierConfig):
    """How a spark task runs: an AWS Glue job (default) or EMR Serverless."""

    kind: Literal["spark"] = "spark"
    workers: int = setting(default=2, ge=2, le=299)
    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X", "G.025X"] = "G.1X"
    engine: Literal["glue", "emr-serverless"] = "glue"
    glue_version: Literal["5.0"] = "5.0"
    # Glue only: FLEX runs on spare capacity, cheaper and may start later (not for urgent jobs).
    execution_class: Literal["STANDARD", "FLEX"] = "STANDARD"
    timeout_minutes: int = setting(default=60, ge=1, le=2880)
    # EMR Serverless only: the application's image. The stock emr-7.x image's Python is 3.9,
    # and glacier's runtime and job packages need CPython 3.11 (docs/aws-mapping.md).
    emr_image: str | None = setting(
        default=None,
        description="the ECR URI of an emr-7.x image with python3.11 installed",
        check=_emr_image,
        omit_if_none=True,
    )


@dataclass(frozen=True)
class WorkerSize:
    """What one Spark worker of a ``SparkConfig.worker_type`` is: Glue's published sizes
    (a DPU is 4 vCPU + 16 GB), used for EMR Serverless capacity and for pricing too."""

    vcpu: int
    memory_gb: int
    dpu: float


WORKER_SIZES: dict[str, WorkerSize] = {
    "G.025X": WorkerSize(vcpu=2, memory_gb=4, dpu=0.25),
    "G.1X": WorkerSize(vcpu=4, memory_gb=16, dpu=1.0),
    "G.2X": WorkerSize(vcpu=8, memory_gb=32, dpu=2.0),
    "G.4X": WorkerSize(vcpu=16, memory_gb=64, dpu=4.0),
    "G.8X": WorkerSize(vcpu=32, memory_gb=128, dpu=8.0),
}


ExecutorConfig = LambdaConfig | SparkConfig
