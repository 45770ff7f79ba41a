"""The local runner: runs a compiled pipeline on this machine with Polars (and local Spark
for pyspark-typed tasks), concurrently, atomically, cached, recording run history."""

from glacier.runner.engine import Reporter, resolve_storage, run_pipeline
from glacier.runner.history import History, TaskStats
from glacier.runner.result import RunResult, TaskRun

__all__ = ["History", "Reporter", "RunResult", "TaskRun", "TaskStats", "resolve_storage", "run_pipeline"]
