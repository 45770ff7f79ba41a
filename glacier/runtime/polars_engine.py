"""The Polars engine of the one read -> call -> write path (``glacier.runtime.core``): scans
in, a LazyFrame out, streamed into the output's dataset class and published whole. Each
input and the result are checked against their declared schemas (footers and plans only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from glacier.io import CancelToken, as_lazy, open_dataset
from glacier.io.location import StorageOptions
from glacier.runtime import partition
from glacier.runtime.event import DatasetLocation, TaskEvent
from glacier.runtime.schema_check import check_input, check_output


class PolarsEngine:
    label = ""
    write_errors: tuple[type[BaseException], ...] = (pl.exceptions.PolarsError,)
    runs_partitions = True

    def read(
        self, event: TaskEvent, param: str, location: DatasetLocation, options: StorageOptions | None
    ) -> pl.LazyFrame:
        frame = open_dataset(location.uri, location.format, options).load()
        if location.partition:
            frame = partition.with_keys(frame, location)
        check_input(event.task, param, location.uri, frame, location.schema_)
        return frame

    def call(self, func: Callable[..., Any], frames: dict[str, Any]) -> Any:
        return func(**frames)

    def result(self, event: TaskEvent, value: Any) -> pl.LazyFrame:
        return as_lazy(value, task=event.task)

    def write(
        self,
        event: TaskEvent,
        frame: pl.LazyFrame,
        options: StorageOptions | None,
        *,
        cancel: CancelToken | None,
    ) -> tuple[int | None, int]:
        out = event.output
        check_output(event.task, out.uri, frame, out.schema_)
        dataset = open_dataset(out.uri, out.format, options)
        rows = dataset.save(
            partition.without_keys(frame, out), partition_by=event.partition_by, cancel=cancel
        )
        stored = dataset.stat()
        return rows, stored.bytes if stored else 0


POLARS = PolarsEngine()
