"""The local runner: runs a compiled pipeline on this machine with Polars (and local Spark
for pyspark-typed tasks), concurrently, atomically, cached, recording run history."""

from glacier.runner.engine import run_pipeline
from glacier.runner.history import History, TaskStats
from glacier.runner.result import RunResult, TaskRun
from glacier.runner.task import Reporter

__all__ = ["History", "Reporter", "RunResult", "TaskRun", "TaskStats", "run_pipeline"]
