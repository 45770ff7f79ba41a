"""Configuration models: where data lives (AwsConfig, LocalConfig) and how tasks run
(LambdaConfig, SparkConfig).

They are frozen pydantic models, so they serialize into the typed DAG unchanged, and they
reject impossible values when constructed, with a message naming the field and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, get_args, get_origin

from annotated_types import Ge, Le
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from glacier.errors import ConfigError

_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d{1,2}$")
# A key ARN, not an alias: IAM grants on KMS name keys.
_KMS_KEY = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")


class GlacierConfig(BaseModel):
    """Base: frozen, no unknown fields, and construction errors become ConfigError."""

    # defer_build: schemas are built on first use, so importing glacier stays cheap (the
    # Lambda cold start imports it through the user module).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ConfigError(_describe(type(self).__name__, exc), fix=_fix_hint(type(self), exc)) from None


def _describe(model: str, exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"]) or "(value)"
        given = err.get("input")
        parts.append(f"{model}.{field}={given!r}: {err['msg']}")
    return "Invalid configuration: " + "; ".join(parts) + "."


def _fix_hint(model: type[BaseModel], exc: ValidationError) -> str:
    hints: dict[str, str] = {}
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else ""
        hints.setdefault(field, _field_hint(model, field, err["type"], err["msg"]))
    return "; ".join(hints[f] for f in sorted(hints)) + "."


def _field_hint(model: type[BaseModel], field: str, error_type: str, message: str) -> str:
    """What a valid value of ``field`` looks like, read from the model's own constraints."""
    info = model.model_fields.get(field)
    if info is None:
        known = ", ".join(name for name in model.model_fields if name != "kind")
        return f"remove '{field}' ({model.__name__} accepts: {known})"
    unit = f" {info.description}" if info.description and len(info.description) < 10 else ""
    if error_type == "value_error":  # our own validators say what a valid value looks like
        return f"{field}: {message.removeprefix('Value error, ')}"
    low = next((m.ge for m in info.metadata if isinstance(m, Ge)), None)
    high = next((m.le for m in info.metadata if isinstance(m, Le)), None)
    if low is not None and high is not None:
        return f"set {field} to a whole number from {low} to {high}{unit}"
    if low is not None:
        return f"set {field} to a whole number of at least {low}{unit}"
    choices = get_args(info.annotation) if get_origin(info.annotation) is Literal else ()
    if choices:
        return f"set {field} to one of {', '.join(repr(c) for c in choices)}"
    return f"set {field} to a value of type {getattr(info.annotation, '__name__', info.annotation)}"


class AwsConfig(GlacierConfig):
    """Data lives in S3; tasks deploy to AWS."""

    kind: Literal["aws"] = "aws"
    region: str = "us-east-1"
    profile: str | None = None
    endpoint_url: str | None = Field(
        default=None, description="an S3-compatible endpoint, e.g. http://127.0.0.1:5000 for moto"
    )
    tags: dict[str, str] = Field(default_factory=dict)
    kms_key_arn: str | None = Field(
        default=None, description="the KMS key that encrypts this provider's buckets (SSE-KMS)"
    )

    @field_validator("kms_key_arn")
    @classmethod
    def _kms_key(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        region = info.data.get("region", "us-east-1")
        if not _KMS_KEY.match(value):
            raise ValueError(
                f"must be a KMS key ARN (not an alias), e.g. 'arn:aws:kms:{region}:123456789012:key/<id>'"
            )
        if value.split(":")[3] != region:
            raise ValueError(
                f"must be a key in the buckets' region {region} (S3 uses keys of its own region only)"
            )
        return value

    @model_serializer(mode="wrap")
    def _without_unset_key(self, handler: SerializerFunctionWrapHandler) -> Any:
        # No key: the same document as before the field existed (DAG JSON and hashes unchanged).
        data = handler(self)
        if isinstance(data, dict) and data.get("kms_key_arn") is None:
            data.pop("kms_key_arn", None)
        return data

    @field_validator("region")
    @classmethod
    def _known_region_shape(cls, value: str) -> str:
        if not _REGION.match(value):
            raise ValueError("must look like an AWS region such as 'us-east-1' or 'eu-west-2'")
        return value

    @field_validator("endpoint_url")
    @classmethod
    def _http_endpoint(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @field_validator("tags")
    @classmethod
    def _aws_tag_limits(cls, value: dict[str, str]) -> dict[str, str]:
        if len(value) > 50:
            raise ValueError("AWS allows at most 50 tags per resource")
        for key, tag_value in value.items():
            if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
                raise ValueError(f"tag key {key!r} must be 1-128 characters and not start with 'aws:'")
            if len(tag_value) > 256:
                raise ValueError(f"tag {key!r} value must be at most 256 characters")
        return value


class LocalConfig(GlacierConfig):
    """Data lives on the local filesystem: bucket ``b``, path ``p`` -> ``base_path/b/p``."""

    kind: Literal["local"] = "local"
    base_path: str = "./data"

    @field_validator("base_path")
    @classmethod
    def _non_empty(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must be a directory path")
        return value


StorageConfig = AwsConfig | LocalConfig


class LambdaConfig(GlacierConfig):
    """How a serverless (or local) task runs as an AWS Lambda function."""

    kind: Literal["lambda"] = "lambda"
    memory: int = Field(default=1024, ge=128, le=10240, description="MB")
    timeout: int = Field(default=900, ge=1, le=900, description="seconds")
    ephemeral_storage: int = Field(default=512, ge=512, le=10240, description="MB of /tmp")
    architecture: Literal["arm64", "x86_64"] = "arm64"
    python_version: Literal["3.12", "3.13"] = "3.12"


class SparkConfig(GlacierConfig):
    """How a spark task runs: an AWS Glue job (default) or EMR Serverless."""

    kind: Literal["spark"] = "spark"
    workers: int = Field(default=2, ge=2, le=299)
    worker_type: Literal["G.1X", "G.2X", "G.4X", "G.8X", "G.025X"] = "G.1X"
    engine: Literal["glue", "emr-serverless"] = "glue"
    glue_version: Literal["5.0"] = "5.0"
    # Glue only: FLEX runs on spare capacity, cheaper and may start later (not for urgent jobs).
    execution_class: Literal["STANDARD", "FLEX"] = "STANDARD"
    timeout_minutes: int = Field(default=60, ge=1, le=2880)


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
