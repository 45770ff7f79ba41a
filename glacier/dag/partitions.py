"""Partitioned datasets: hive keys declared on a directory dataset, and the partition a run
processes (``{"date": "2026-11-30"}`` -> the sub-directory ``date=2026-11-30/``).

Pure data: the definition checks the keys, the runner and the entry points check a value
before it becomes part of a path, and a run's plan checks that every task touching a
partitioned dataset reads and writes the same partition.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from glacier.errors import ConfigError, DefinitionError

if TYPE_CHECKING:
    from glacier.dag.model import DatasetNode, PipelineDAG, TaskNode
    from glacier.dag.schema import DatasetSchema

Partition = dict[str, str]  # key -> value, in the dataset's key order

_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A value becomes one path component on disk and in S3 keys: letters, digits and a few
# punctuation marks that need no escaping in either (no '/', '=', '%', spaces, '..').
_VALUE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:+-]*$")
_INTEGER_TYPES = {"Int8", "Int16", "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64"}


def partition_keys(
    dataset_id: str, path: str, partition_by: Sequence[str] | None, schema: DatasetSchema | None
) -> tuple[str, ...]:
    """The declared keys of a dataset, checked: only directory datasets are partitioned."""
    if partition_by is None:
        return ()
    keys = (partition_by,) if isinstance(partition_by, str) else tuple(partition_by)
    if not keys:
        raise DefinitionError(
            f"Dataset '{dataset_id}' has partition_by=[] (no keys).",
            fix="name at least one column, e.g. partition_by=['date'], or drop partition_by=.",
        )
    if not path.endswith("/"):
        raise DefinitionError(
            f"Dataset '{dataset_id}' has partition_by={list(keys)!r} but is a single file.",
            fix="partition a directory dataset: end its path in '/' (e.g. 'events/').",
        )
    for key in keys:
        if not isinstance(key, str) or not _KEY.match(key):
            raise DefinitionError(
                f"Dataset '{dataset_id}' has partition key {key!r}, which is not a column name.",
                fix="use letters, digits and '_' (starting with a letter), e.g. 'date'.",
            )
    if len(set(keys)) != len(keys):
        raise DefinitionError(
            f"Dataset '{dataset_id}' names a partition key twice in {list(keys)!r}.",
            fix="list each key once.",
        )
    if schema is not None:
        missing = [k for k in keys if k not in schema.columns]
        if missing:
            raise DefinitionError(
                f"Dataset '{dataset_id}' is partitioned by {missing!r}, which its schema does not declare.",
                fix=f"add {', '.join(missing)} to schema={{...}} (e.g. 'date': pl.Date).",
            )
    return keys


def parse_assignments(assignments: Iterable[str]) -> Partition:
    """``["date=2026-11-30"]`` (the CLI's ``--partition``) as a partition."""
    partition: Partition = {}
    for item in assignments:
        for part in item.split(","):
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key:
                raise ConfigError(
                    f"--partition {part!r} is not KEY=VALUE.",
                    fix="pass e.g. --partition date=2026-11-30.",
                )
            if key in partition:  # a run is one partition: the last value must not win silently
                raise ConfigError(
                    f"--partition gives {key!r} twice ({partition[key]!r} and {value!r}).",
                    fix="run one partition per run, or backfill several with glacier backfill --values a,b.",
                )
            partition[key] = value
    return partition


def check_value(dataset_id: str, columns: Mapping[str, str] | None, key: str, value: str) -> str:
    """``value`` as the partition ``key`` of dataset ``dataset_id`` stores it (a path component
    within the column's type in ``columns``, if known); a clear error otherwise."""
    text = str(value)
    if text in (".", "..") or not _VALUE.match(text):
        raise ConfigError(
            f"Partition {key}={text!r} of dataset '{dataset_id}' is not a valid path component.",
            fix="use letters, digits and '_', '-', '.', ':', '+' only (no '/', '=', '%', spaces), "
            "e.g. date=2026-11-30.",
        )
    dtype = (columns or {}).get(key)
    if dtype == "Date":
        try:
            return datetime.date.fromisoformat(text).isoformat()
        except ValueError:
            raise ConfigError(
                f"Partition {key}={text!r} of dataset '{dataset_id}' is not a date "
                f"(its '{key}' column is a Date).",
                fix="pass an ISO date, e.g. 2026-11-30.",
            ) from None
    if dtype in _INTEGER_TYPES:
        try:
            return str(int(text))
        except ValueError:
            raise ConfigError(
                f"Partition {key}={text!r} of dataset '{dataset_id}' is not an integer "
                f"(its '{key}' column is {dtype}).",
                fix=f"pass a whole number for {key}.",
            ) from None
    return text


def check_partition(dataset: DatasetNode, partition: Mapping[str, str]) -> Partition:
    """``partition`` for ``dataset``: exactly its keys, each value checked, in key order."""
    if set(partition) != set(dataset.partition_by):
        raise ConfigError(
            f"Partition {dict(partition)!r} does not match dataset '{dataset.id}', partitioned by "
            f"{list(dataset.partition_by)!r}.",
            fix="give a value for each key: " + ", ".join(f"{k}=..." for k in dataset.partition_by) + ".",
        )
    keys = dataset.partition_by
    return {key: check_value(dataset.id, dataset.columns, key, partition[key]) for key in keys}


def partition_path(partition: Mapping[str, str]) -> str:
    """The hive sub-path of a partition: ``date=2026-11-30/``."""
    return "".join(f"{key}={value}/" for key, value in partition.items())


def partition_label(partition: Mapping[str, str] | None) -> str | None:
    """How history and reports name a partition: ``date=2026-11-30`` (None: a whole run)."""
    return partition_path(partition).rstrip("/") if partition else None


def partitioned_datasets(dag: PipelineDAG) -> list[DatasetNode]:
    return [ds for ds in dag.datasets if ds.partition_by]


def check_run_partition(dag: PipelineDAG, partition: Mapping[str, str]) -> Partition:
    """The partition one run of ``dag`` processes, checked against every partitioned dataset
    and task (a task reading a partition must write the same partition)."""
    datasets = partitioned_datasets(dag)
    if not datasets:
        raise ConfigError(
            f"Pipeline '{dag.name}' has no partitioned dataset, so it cannot run partition "
            f"{dict(partition)!r}.",
            fix="declare partition_by=[...] on its directory datasets, or run it without a partition.",
        )
    checked: Partition = {}
    for dataset in sorted(datasets, key=lambda ds: not ds.schema_declared):  # declared types first
        checked = check_partition(dataset, partition)
    for task in dag.tasks:
        _check_task(dag, task)
    return checked


def _check_task(dag: PipelineDAG, task: TaskNode) -> None:
    output = dag.dataset(task.output)
    for dataset_id in task.inputs.values():
        keys = dag.dataset(dataset_id).partition_by
        if keys and keys != output.partition_by:
            raise ConfigError(
                f"Task '{task.name}' reads partitioned dataset '{dataset_id}' (by {list(keys)!r}) but writes "
                f"'{output.id}' partitioned by {list(output.partition_by)!r}: one partition cannot be run.",
                fix=f"declare partition_by={list(keys)!r} on '{output.id}' too, or run the pipeline whole.",
            )
    if output.partition_by and not any(dag.dataset(d).partition_by for d in task.inputs.values()):
        raise ConfigError(
            f"Task '{task.name}' writes partitioned dataset '{output.id}' from unpartitioned inputs: "
            "a partition run would replace one partition with all of its result.",
            fix=f"partition one of its inputs by {list(output.partition_by)!r} too, or run the "
            "pipeline whole.",
        )


def check_whole_run(dag: PipelineDAG) -> None:
    """A run without a partition must not write a partitioned dataset: each of its partitions
    is published on its own (``glacier run --partition`` or ``glacier backfill``)."""
    for task in dag.tasks:
        output = dag.dataset(task.output)
        if output.partition_by:
            keys = ", ".join(f"{k}=..." for k in output.partition_by)
            raise ConfigError(
                f"Task '{task.name}' writes partitioned dataset '{output.id}', so pipeline '{dag.name}' "
                "runs one partition at a time.",
                fix=f"run with --partition {keys} (or .run(partition={{...}})), or backfill a range "
                "with glacier backfill.",
            )


def daily_values(start: str, end: str) -> list[str]:
    """Every ISO date from ``start`` to ``end`` inclusive (a daily backfill's values)."""
    try:
        first, last = datetime.date.fromisoformat(start), datetime.date.fromisoformat(end)
    except ValueError:
        raise ConfigError(
            f"Backfill range {start!r}..{end!r} is not two ISO dates.",
            fix="pass e.g. --from 2026-11-01 --to 2026-11-30.",
        ) from None
    if last < first:
        raise ConfigError(
            f"Backfill range {start}..{end} ends before it starts.",
            fix="pass --from before --to.",
        )
    return [(first + datetime.timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
