"""The contract between the state machine and the entry points.

The state machine sends a ``TaskEvent`` (built from the DAG at deploy time: S3 URIs only,
never data) and gets back a ``TaskResult``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from glacier.formats import Format


class DatasetLocation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    uri: str  # s3://bucket/key (a key ending in '/' is a partitioned directory)
    format: Format


class TaskEvent(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline: str
    task: str
    code_ref: str  # "module:qualname", importable from the code bundle
    inputs: dict[str, DatasetLocation]  # task parameter -> dataset
    output: DatasetLocation
    execution: str | None = None  # the Step Functions execution name, for logs


class TaskResult(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pipeline: str
    task: str
    status: Literal["succeeded"] = "succeeded"
    output: str
    rows: int | None = Field(default=None, description="None when counting would re-read the data")
    bytes: int
    seconds: float
