"""What the DSL records about datasets and steps, as plain data: dataset locations (checked
the way S3 would check them) and ``sources -> task -> target`` step records. No pydantic:
a user's module records these at import, and only compiling turns them into the typed DAG.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

from glacier.errors import DefinitionError
from glacier.formats import format_for_path

if TYPE_CHECKING:
    from glacier.dag.model import TaskDefinition
    from glacier.dag.schema import DatasetSchema


@dataclass(frozen=True)
class DatasetRef:
    """A dataset location as the DSL records it (``bucket/path``, checked)."""

    bucket: str
    path: str
    managed: bool = True
    # The user's declaration, if any. Not part of equality/hash: a ref is a location.
    schema: DatasetSchema | None = field(default=None, compare=False)
    partition_by: tuple[str, ...] = ()  # hive partition keys of a directory dataset

    @cached_property
    def id(self) -> str:
        return f"{self.bucket}/{self.path}"


@dataclass(frozen=True)
class StepSpec:
    """One ``sources -> task -> target`` step, sources already bound to parameter names."""

    task: TaskDefinition
    inputs: tuple[tuple[str, DatasetRef], ...]
    output: DatasetRef


def normalize_location(bucket: str, path: str) -> DatasetRef:
    """Check a bucket name and path the way S3 would, and normalise the path."""
    check_bucket_name(bucket)
    if not isinstance(path, str) or not path.strip("/"):
        raise DefinitionError(
            f"Bucket '{bucket}' needs a path inside it, got {path!r}.",
            fix="pass path='folder/name.parquet' (or a folder ending in '/').",
        )
    is_dir = path.endswith("/")
    parts = [p for p in path.split("/") if p]
    if any(p in (".", "..") for p in parts):
        raise DefinitionError(
            f"Bucket '{bucket}' path {path!r} contains '.' or '..'.",
            fix="use a plain relative key such as 'raw/data.parquet'.",
        )
    normalized = "/".join(parts) + ("/" if is_dir else "")
    format_for_path(normalized, bucket=bucket)  # unknown formats fail at definition time
    return DatasetRef(bucket=bucket, path=normalized)


# S3's rules for general purpose bucket names
# (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), plus the
# virtual-hosted-style rule against a hyphen next to a period. Checked in this order; the
# first rule broken is the one reported.
_BUCKET_CHARS = re.compile(r"[^a-z0-9.-]")
_IP_ADDRESS = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_RESERVED_PREFIXES = {
    "xn--": "S3 reserves it: it marks punycode domain names",
    "sthree-": "S3 reserves it",
    "amzn-s3-demo-": "S3 reserves it for documentation examples",
}
_RESERVED_SUFFIXES = {
    "-s3alias": "S3 reserves it for access point aliases",
    "--ol-s3": "S3 reserves it for Object Lambda Access Point aliases",
    ".mrap": "S3 reserves it for Multi-Region Access Points",
    "--x-s3": "S3 reserves it for directory buckets",
    "--table-s3": "S3 reserves it for table buckets",
}
_NAME_FIX = (
    "use 3-63 lowercase letters, digits, dots or hyphens, starting and ending with a letter or "
    "digit (e.g. 'data-lake')."
)


def check_bucket_name(name: object) -> None:
    """Refuse, at definition time, any name S3 would refuse when the bucket is created."""
    broken = _broken_bucket_rule(name)
    if broken is not None:
        rule, fix = broken
        raise DefinitionError(f"Bucket name {name!r} is not a valid S3 bucket name: {rule}.", fix=fix)


def _broken_bucket_rule(name: object) -> tuple[str, str] | None:
    if not isinstance(name, str):
        return "it is not a string", _NAME_FIX
    if not 3 <= len(name) <= 63:
        return f"it has {len(name)} characters (S3 allows 3 to 63)", _NAME_FIX
    bad = sorted(set(_BUCKET_CHARS.findall(name)))
    if bad:
        shown = ", ".join(repr(c) for c in bad)
        return f"it may contain only lowercase letters, digits, dots and hyphens (not {shown})", _NAME_FIX
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "it must begin and end with a letter or digit", _NAME_FIX
    if ".." in name:
        return (
            "it contains two adjacent periods",
            "separate the parts with a single period (e.g. 'data.lake').",
        )
    if ".-" in name or "-." in name:
        return "it has a hyphen next to a period", "drop the hyphen next to the period (e.g. 'data.lake')."
    if _IP_ADDRESS.match(name):
        return "it is formatted as an IP address", "use a name with letters, such as 'data-lake'."
    for prefix, why in _RESERVED_PREFIXES.items():
        if name.startswith(prefix):
            return f"it starts with '{prefix}' ({why})", f"choose a name that does not start with '{prefix}'."
    for suffix, why in _RESERVED_SUFFIXES.items():
        if name.endswith(suffix):
            return f"it ends with '{suffix}' ({why})", f"choose a name that does not end with '{suffix}'."
    return None
