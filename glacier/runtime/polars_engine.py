"""The Polars engine of the one read -> call -> write path (``glacier.runtime.core``): scans
in, a LazyFrame out, streamed into the output's dataset class and published whole. Each
input and the result are checked against their declared schemas (footers and plans only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from glacier.io import CancelToken, Dataset, as_lazy, open_dataset
from glacier.io.location import StorageOptions
from glacier.runtime import partition
from glacier.runtime.event import DatasetLocation, TaskEvent
from glacier.runtime.schema_check import check_input, check_output, scan_dtypes, unreadable


def dataset_at(location: DatasetLocation, options: StorageOptions | None) -> Dataset:
    """The dataset at ``location``; a CSV/NDJSON one scans its declared columns as declared."""
    dtypes = scan_dtypes(location.format, location.schema_)
    return open_dataset(location.uri, location.format, options, dtypes=dtypes)


class PolarsEngine:
    label = ""
    write_errors: tuple[type[BaseException], ...] = (pl.exceptions.PolarsError,)

    def read(
        self,
        event: TaskEvent,
        param: str,
        location: DatasetLocation,
        options: StorageOptions | None,
        added: dict[str, dict[str, str]] | None = None,
    ) -> pl.LazyFrame:
        frame = dataset_at(location, options).load()
        if location.partition:
            frame = partition.with_keys(frame, location)
        check = check_input(event.task, param, location.uri, frame, location.schema_, location.format)
        if check.added and added is not None:
            added[location.uri] = check.added_columns
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
        added: dict[str, dict[str, str]] | None = None,
    ) -> tuple[int | None, int]:
        out = event.output
        check = check_output(event.task, out.uri, frame, out.schema_)
        if check.added and added is not None:
            added[out.uri] = check.added_columns
        dataset = dataset_at(out, options)
        try:
            rows = dataset.save(
                partition.without_keys(frame, out), partition_by=event.partition_by, cancel=cancel
            )
        except (pl.exceptions.PolarsError, OSError) as exc:
            # An input that cannot be read as declared shows only now, while the result is
            # computed: name that input, not the output.
            inputs = {param: (loc.uri, loc.format, loc.schema_) for param, loc in event.inputs.items()}
            bad_input = unreadable(event.task, inputs, exc)
            if bad_input is not None:
                raise bad_input from exc
            raise
        stored = dataset.stat()
        return rows, stored.bytes if stored else 0


POLARS = PolarsEngine()
