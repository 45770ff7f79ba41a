"""One partition of a task event: where it reads and writes, and its frames' hive columns.

A partition of a directory dataset is its own directory dataset at ``<dataset>/<k>=<v>/``,
versioned and published whole like any other (a symlinked version locally, a manifest on
S3), so publishing one partition never touches another. Its files do not store the key
columns (hive layout): a reader of one partition gets them back as literals, a writer drops
them (after the schema check, which sees the dataset's full columns).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glacier.dag.partitions import check_value, partition_path
from glacier.errors import ExecutionError
from glacier.runtime.event import DatasetLocation, TaskEvent

if TYPE_CHECKING:
    import polars as pl

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


def key_dtypes(location: DatasetLocation) -> dict[str, str]:
    """The dtype each key column of one partition gets back from its path: a declared Date
    or integer, else String (the path holds text). Every engine adds the keys so."""
    columns = location.schema_.columns if location.schema_ is not None else {}
    typed = {key: columns.get(key) for key in location.partition or {}}
    return {key: dtype if dtype == "Date" or dtype in _INTEGERS else "String" for key, dtype in typed.items()}


def with_keys(frame: pl.LazyFrame, location: DatasetLocation) -> pl.LazyFrame:
    """One partition's frame with its key columns back (typed as the schema declares them)."""
    if not location.partition:
        return frame
    import polars as pl

    present = set(frame.collect_schema().names())
    keys: list[pl.Expr] = []
    for key, dtype in key_dtypes(location).items():
        if key in present:  # written with the key inside the files: keep what is stored
            continue
        literal = pl.lit(location.partition[key])
        if dtype == "Date":
            literal = literal.str.to_date()
        elif dtype != "String":
            literal = literal.cast(getattr(pl, dtype))
        keys.append(literal.alias(key))
    return frame.with_columns(keys) if keys else frame


def without_keys(frame: pl.LazyFrame, location: DatasetLocation) -> pl.LazyFrame:
    """The frame a partition stores: its key columns dropped (the path holds them)."""
    if not location.partition:
        return frame
    return frame.drop(list(location.partition), strict=False)


PARTITION_OF_KEY = "partition_of_key"  # the Lambda event field asking for an object's partition
