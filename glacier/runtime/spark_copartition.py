"""Polars tasks on Spark, co-partitioned by keys every input shares (``partition_by``).

Spark reads each input in its format; the inputs are stacked into one frame (the keys, a
column telling which input a row is from, and each input's other columns under its own
prefix), shuffled by the keys (``repartition(n, *keys)``: rows with equal keys land in the
same partition, whichever input they come from), and ``mapInArrow`` runs the task's Polars
function once per partition on the executors, on that partition's rows of every input. The
frames are Arrow all the way (no pandas), cast to the dtypes Polars reads locally, so the
union of the partitions' results is the task's result on the whole data whenever the task
is key-local (no output row depends on rows of another key value: joins, group-bys and
filters on the keys) — which is what ``partition_by`` declares.

The output's Spark schema is the task's result on empty frames of its inputs' schemas
(the same rule as ``glacier.schema.derive``). ``mapInArrow`` exists since Spark 3.3, so the
same code runs on Glue 5 (Spark 3.5) and on pyspark 4.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Any

import polars as pl
from pyspark.accumulators import AccumulatorParam

from glacier.errors import ExecutionError, GlacierError
from glacier.formats import Format
from glacier.io import CancelToken, as_lazy
from glacier.io.datasets.spark_types import arrow_schema_for, spark_schema
from glacier.io.location import StorageOptions
from glacier.runtime import partition
from glacier.runtime.event import DatasetLocation, TaskEvent
from glacier.runtime.polars_engine import dataset_at
from glacier.runtime.schema_check import check_input, check_output
from glacier.runtime.spark_engine import read_location, spark_errors, unparsed_input, write_result

INPUT_COLUMN = "__glacier_input"
COPARTITIONS_CONF = "spark.glacier.copartitions"  # how many co-partitions (default: shuffle partitions)
_MARK = "<<glacier-task-error>>"


@dataclass(frozen=True)
class CoInput:
    """One input: its Spark DataFrame and the schema Polars reads it with."""

    df: Any
    schema: pl.Schema


@dataclass(frozen=True)
class InputSpec:
    param: str
    index: int
    columns: tuple[tuple[str, str], ...]  # (the input's column, its column in the stacked frame)
    schema: pl.Schema


class PartitionRunner:
    """What each executor runs per partition (pickled to the executors): the task's function
    on its co-partition of every input."""

    def __init__(
        self,
        task: str,
        code_ref: str,
        inputs: tuple[InputSpec, ...],
        output: pl.Schema,
        seen: Any,
        paths: list[str],
    ) -> None:
        self.task = task
        self.code_ref = code_ref
        self.inputs = inputs
        self.output = output
        self.seen = seen  # accumulator: the partition ids that had rows
        self.paths = paths  # the driver's import path (the user's module may live anywhere)

    def __call__(self, batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa
        from pyspark import TaskContext

        collected = [b for b in batches if b.num_rows]
        if not collected:
            return
        stacked = pl.from_arrow(pa.Table.from_batches(collected))
        assert isinstance(stacked, pl.DataFrame)
        frames = {
            spec.param: stacked.filter(pl.col(INPUT_COLUMN) == spec.index)
            .select(pl.col(column).alias(name) for name, column in spec.columns)
            .cast(spec.schema)
            .lazy()
            for spec in self.inputs
        }
        try:
            result = as_lazy(self._function()(**frames), task=self.task).collect()
        except Exception as exc:
            # The driver sees a Spark error wrapping this text: the marks let it name the cause.
            message = " ".join(str(exc).split())
            raise RuntimeError(f"{_MARK}{type(exc).__name__}: {message}{_MARK}") from exc
        context = TaskContext.get()
        if context is not None:
            self.seen.add({context.partitionId()})
        table = result.select(self.output.names()).to_arrow().cast(arrow_schema_for(self.output))
        yield from table.to_batches()

    def _function(self) -> Callable[..., Any]:
        for path in self.paths:
            if path not in sys.path:
                sys.path.append(path)
        from glacier.code import import_code_ref

        return import_code_ref(self.code_ref, self.task)


class _Union(AccumulatorParam):
    """An accumulator of sets (the partition ids that ran)."""

    def zero(self, value: set[int]) -> set[int]:
        return set()

    def addInPlace(self, a: set[int], b: set[int]) -> set[int]:
        a |= b
        return a


class CoPartitionEngine:
    """A Polars task run co-partitioned on Spark (``label`` names Spark in failures)."""

    label = " on Spark"

    def __init__(self, spark: Any, scratch: Path, keys: list[str], *, s3_connector: bool = False) -> None:
        self.spark = spark
        self.scratch = scratch
        self.keys = keys
        self.s3_connector = s3_connector
        self.write_errors = spark_errors()
        self.seen = spark.sparkContext.accumulator(set(), _Union())
        self.event: TaskEvent | None = None
        self.copartitions = 0

    @property
    def partitions_used(self) -> int:
        """How many co-partitions had rows and ran the task (after the write)."""
        return len(self.seen.value)

    def read(
        self,
        event: TaskEvent,
        param: str,
        location: DatasetLocation,
        options: StorageOptions | None,
        added: dict[str, dict[str, str]] | None = None,
    ) -> CoInput:
        self.event = event
        # Declared text columns read as declared; one partition's keys back from its path.
        scan = partition.with_keys(dataset_at(location, options).load(), location)
        check = check_input(event.task, param, location.uri, scan, location.schema_, location.format)
        if check.added and added is not None:
            added[location.uri] = check.added_columns
        schema = scan.collect_schema()
        missing = [key for key in self.keys if key not in schema]
        if missing:
            raise ExecutionError(
                f"Task '{event.task}' has partition_by={self.keys}, but its input '{param}' "
                f"({location.uri}) has no column(s) {missing}.",
                task=event.task,
                fix=f"partition by columns every input of '{event.task}' has (its input '{param}' has "
                f"{schema.names()}), or drop partition_by to run it with Polars on one node.",
            )
        df = read_location(self.spark, event, location, options, self.scratch, s3_connector=self.s3_connector)
        return CoInput(df, schema)

    def call(self, func: Callable[..., Any], frames: dict[str, Any]) -> Any:
        event = self.event
        assert event is not None
        inputs: dict[str, CoInput] = frames
        empty = {param: pl.LazyFrame(schema=co.schema) for param, co in inputs.items()}
        output = as_lazy(func(**empty), task=event.task).collect_schema()  # the derived schema
        return self._plan(event, inputs, output)

    def _plan(self, event: TaskEvent, inputs: dict[str, CoInput], output: pl.Schema) -> Any:
        from pyspark.sql import functions as F

        specs: list[InputSpec] = []
        parts: list[Any] = []
        for index, (param, co) in enumerate(inputs.items()):
            columns = tuple((c, c if c in self.keys else f"__g{index}__{c}") for c in co.df.columns)
            specs.append(InputSpec(param, index, columns, co.schema))
            parts.append(
                co.df.select(
                    *(F.col(f"`{c}`").alias(stacked) for c, stacked in columns),
                    F.lit(index).alias(INPUT_COLUMN),
                )
            )
        stacked = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), parts)
        conf = self.spark.conf.get(COPARTITIONS_CONF, None) or self.spark.conf.get(
            "spark.sql.shuffle.partitions"
        )
        self.copartitions = max(1, int(conf))
        shuffled = stacked.repartition(self.copartitions, *(F.col(f"`{k}`") for k in self.keys))
        runner = PartitionRunner(event.task, event.code_ref, tuple(specs), output, self.seen, list(sys.path))
        result = shuffled.mapInArrow(runner, spark_schema(output, task=event.task))
        return _Planned(result, output)

    def result(self, event: TaskEvent, value: Any) -> Any:
        return value

    def write(
        self,
        event: TaskEvent,
        frame: Any,
        options: StorageOptions | None,
        *,
        cancel: CancelToken | None,
        added: dict[str, dict[str, str]] | None = None,
    ) -> tuple[int | None, int]:
        planned: _Planned = frame
        out = event.output
        check = check_output(event.task, out.uri, pl.LazyFrame(schema=planned.schema), out.schema_)
        if check.added and added is not None:
            added[out.uri] = check.added_columns
        df = planned.df
        try:
            if out.format is not Format.PARQUET_DIR:
                # A file is written by one task (coalesce(1)), which would also run every
                # co-partition in that one task: compute them in parallel first.
                df = df.localCheckpoint(eager=True)
            return write_result(
                df, event, options, self.scratch, cancel=cancel, s3_connector=self.s3_connector
            )
        except GlacierError:
            raise
        except Exception as exc:
            cause = re.search(re.escape(_MARK) + "(.*?)" + re.escape(_MARK), str(exc), re.S)
            if cause is None:
                bad_input = unparsed_input(event, exc)
                if bad_input is None:
                    raise
                raise bad_input from exc
            raise ExecutionError(
                f"Task '{event.task}' failed on Spark: {cause.group(1)}",
                task=event.task,
                fix=f"fix the error raised inside '{event.code_ref}'.",
            ) from None


@dataclass(frozen=True)
class _Planned:
    df: Any  # the Spark DataFrame of the results of every co-partition
    schema: pl.Schema
