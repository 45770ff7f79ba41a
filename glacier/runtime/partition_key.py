"""An arrived object's partition: the request an arrival execution's first state sends to
the pipeline's Lambda function (``PARTITION_OF_KEY`` in its event), and the mapping of the
object's key to the hive partition it is in. Imported only for that request: the models are
pydantic, which a task's cold start does not pay for."""

from __future__ import annotations

import re
from urllib.parse import unquote

from pydantic import BaseModel, ConfigDict

from glacier.dag.partitions import Partition, check_value
from glacier.errors import ConfigError, ExecutionError

# -- an arrived object's partition ----------------------------------------------------------
# EventBridge passes S3 keys as stored (``date=2026-11-30``); S3's own notifications escape
# them (``date%3D2026-11-30``). A partition value never holds '%', so an escaped key is
# unescaped (not '+' -> ' ': '+' is a valid value character, a space never is).
_ESCAPED = re.compile(r"%[0-9A-Fa-f]{2}")


class PartitionLayout(BaseModel):
    """Where one partitioned source dataset keeps its partitions (``s3://bucket/prefix`` then
    ``k=v/`` per key), and its schema's types: what maps an arrived object to its partition."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bucket: str
    prefix: str
    partition_by: list[str]
    columns: dict[str, str] | None = None


class PartitionOfKey(BaseModel):
    """The request the state machine's first state sends for an arrival execution."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline: str
    bucket: str
    key: str
    layouts: list[PartitionLayout]

    def answer(self) -> dict[str, object]:
        """The execution's state from here on: the arrival's input with its partition."""
        partition = partition_of_key(self.pipeline, self.bucket, self.key, self.layouts)
        return {"trigger": "arrival", "bucket": self.bucket, "key": self.key, "partition": partition}


def partition_of_key(pipeline: str, bucket: str, key: str, layouts: list[PartitionLayout]) -> Partition:
    """The partition the object ``s3://bucket/key`` belongs to (``events/date=2026-11-30/
    part.parquet`` -> ``{"date": "2026-11-30"}``), its values checked against the dataset's
    types; a clear error when it is in none of the pipeline's partitioned sources."""
    text = unquote(key) if _ESCAPED.search(key) else key
    for layout in layouts:
        if layout.bucket != bucket or not text.startswith(layout.prefix):
            continue
        dataset = f"s3://{layout.bucket}/{layout.prefix}"
        folders = text[len(layout.prefix) :].split("/")[:-1]  # the last part is the file name
        expected = "/".join(f"{k}=<value>" for k in layout.partition_by)
        if len(folders) < len(layout.partition_by):
            raise ExecutionError(
                f"Pipeline '{pipeline}': object s3://{bucket}/{key} arrived in '{dataset}' but not "
                f"in a partition of it (expected {dataset}{expected}/...).",
                fix=f"write the pipeline's input files under {dataset}{expected}/.",
            )
        values: Partition = {}
        for name, folder in zip(layout.partition_by, folders, strict=False):
            found, sep, value = folder.partition("=")
            if not sep or found != name:
                raise ExecutionError(
                    f"Pipeline '{pipeline}': object s3://{bucket}/{key} is under folder '{folder}', "
                    f"not a partition '{name}=<value>' of '{dataset}'.",
                    fix=f"write the pipeline's input files under {dataset}{expected}/.",
                )
            try:
                values[name] = check_value(dataset, layout.columns, name, value)
            except ConfigError as exc:
                raise ExecutionError(
                    f"Pipeline '{pipeline}': object s3://{bucket}/{key} is in no valid partition: {exc}"
                ) from None
        return values
    where = ", ".join(f"s3://{layout.bucket}/{layout.prefix}" for layout in layouts) or "none"
    raise ExecutionError(
        f"Pipeline '{pipeline}': object s3://{bucket}/{key} is in none of its partitioned source "
        f"datasets ({where}), so it names no partition.",
        fix="start the pipeline for objects under those datasets only (its arrival trigger), or "
        'start it with {"partition": {...}} (glacier run --cloud --partition ...).',
    )
