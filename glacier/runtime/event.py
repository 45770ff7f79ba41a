"""The contract between the state machine and the entry points.

The state machine sends a ``TaskEvent`` (built from the DAG at deploy time: S3 URIs only,
never data) and gets back a ``TaskResult``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from glacier.dag.model import DatasetNode, PipelineDAG, TaskNode
from glacier.dag.schema import DatasetSchema
from glacier.errors import ConfigError
from glacier.formats import Format


class CatalogTarget(BaseModel):
    """The Glue Data Catalog table of a directory dataset, which the runtime keeps on its
    current version after each publish (``glacier.runtime.catalog``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    database: str
    table: str


class DatasetLocation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_by_name=True, serialize_by_alias=True)

    uri: str  # s3://bucket/key (a key ending in '/' is a partitioned directory)
    format: Format
    schema_: DatasetSchema | None = Field(default=None, alias="schema")  # the declaration, if any
    partition_by: list[str] | None = None  # hive keys of a partitioned directory dataset
    partition: dict[str, str] | None = None  # set once ``uri`` names one partition of it
    catalog: CatalogTarget | None = None  # deployed outputs with an Athena table (directories)


class TaskEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline: str
    task: str
    code_ref: str  # "module:qualname", importable from the code bundle
    inputs: dict[str, DatasetLocation]  # task parameter -> dataset
    output: DatasetLocation
    execution: str | None = None  # the Step Functions execution name, for logs
    partition_by: list[str] | None = None  # hive partition columns of a directory output
    partition: dict[str, str] | None = None  # the one partition this run reads and writes

    @classmethod
    def for_task(
        cls,
        dag: PipelineDAG,
        task: TaskNode,
        uri_of: Callable[[DatasetNode], str],
        execution: str | None = None,
        partition: dict[str, str] | None = None,
    ) -> TaskEvent:
        """The event that runs ``task``: the one builder the local runner and the state
        machine share, so a task sees the same inputs wherever it runs."""

        def location(dataset_id: str) -> DatasetLocation:
            dataset = dag.dataset(dataset_id)
            return DatasetLocation(
                uri=uri_of(dataset),
                format=dataset.format,
                schema=dataset.declared_schema,
                partition_by=list(dataset.partition_by) or None,
            )

        return cls(
            pipeline=dag.name,
            task=task.name,
            code_ref=task.code_ref,
            inputs={param: location(ds) for param, ds in task.inputs.items()},
            output=location(task.output),
            execution=execution,
            partition_by=partition_columns(task),
            partition=partition,
        )


class TaskResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline: str
    task: str
    status: Literal["succeeded"] = "succeeded"
    output: str
    rows: int | None = Field(default=None, description="None when counting would re-read the data")
    bytes: int
    seconds: float
    # Columns beyond a schema_mode="evolve" declaration: dataset URI -> column -> dtype name.
    schema_added: dict[str, dict[str, str]] = Field(default_factory=dict)


def partition_columns(task: TaskNode) -> list[str] | None:
    """The ``partition_by`` task config (a column or a list of columns), checked."""
    value = task.config.get("partition_by")
    if value is None:
        return None
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [str(v) for v in value]
    raise ConfigError(
        f"Task '{task.name}' has partition_by={value!r}.",
        fix="pass a column name or a list of column names.",
    )
