"""One partition of a task event: where it reads and writes, and its frames' hive columns.

A partition of a directory dataset is its own directory dataset at ``<dataset>/<k>=<v>/``,
versioned and published whole like any other (a symlinked version locally, a manifest on
S3), so publishing one partition never touches another. Its files do not store the key
columns (hive layout): a reader of one partition gets them back as literals, a writer drops
them (after the schema check, which sees the dataset's full columns).
"""

from __future__ import annotations

import re
from urllib.parse import unquote

import polars as pl
from pydantic import BaseModel, ConfigDict

from glacier.dag.partitions import Partition, check_value, partition_path
from glacier.errors import ConfigError, ExecutionError
from glacier.runtime.event import DatasetLocation, TaskEvent

_INTEGERS = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}


def in_partition(event: TaskEvent) -> TaskEvent:
    """``event`` with each partitioned location narrowed to ``event.partition`` (values
    checked); the event itself when it names no partition or is narrowed already."""
    if event.partition is None:
        return event
    partition = event.partition
    inputs = {param: _narrow(event, loc, partition) for param, loc in event.inputs.items()}
    output = _narrow(event, event.output, partition)
    return event.model_copy(update={"inputs": inputs, "output": output, "partition_by": None})


def _narrow(event: TaskEvent, location: DatasetLocation, partition: dict[str, str]) -> DatasetLocation:
    if not location.partition_by or location.partition is not None:
        return location
    if set(partition) != set(location.partition_by):
        raise ExecutionError(
            f"Task '{event.task}' got partition {partition!r}, but '{location.uri}' is partitioned by "
            f"{location.partition_by!r}.",
            task=event.task,
            fix="pass a value for each partition key: "
            + ", ".join(f"{k}=..." for k in location.partition_by),
        )
    columns = location.schema_.columns if location.schema_ is not None else None
    values = {key: check_value(location.uri, columns, key, partition[key]) for key in location.partition_by}
    uri = location.uri if location.uri.endswith("/") else location.uri + "/"
    return location.model_copy(update={"uri": uri + partition_path(values), "partition": values})


def with_keys(frame: pl.LazyFrame, location: DatasetLocation) -> pl.LazyFrame:
    """One partition's frame with its key columns back (typed as the schema declares them)."""
    if not location.partition:
        return frame
    columns = location.schema_.columns if location.schema_ is not None else {}
    present = set(frame.collect_schema().names())
    keys: list[pl.Expr] = []
    for key, value in location.partition.items():
        if key in present:  # written with the key inside the files: keep what is stored
            continue
        literal = pl.lit(value)
        dtype = columns.get(key)
        if dtype == "Date":
            literal = literal.str.to_date()
        elif dtype in _INTEGERS:
            literal = literal.cast(getattr(pl, dtype))
        keys.append(literal.alias(key))
    return frame.with_columns(keys) if keys else frame


def without_keys(frame: pl.LazyFrame, location: DatasetLocation) -> pl.LazyFrame:
    """The frame a partition stores: its key columns dropped (the path holds them)."""
    if not location.partition:
        return frame
    return frame.drop(list(location.partition), strict=False)


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


PARTITION_OF_KEY = "partition_of_key"  # the Lambda event field asking for an object's partition


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
