"""The dataset strategy: one subclass per storage format.

Modelled on Kedro's ``AbstractDataset``: the public methods (``load``, ``save``,
``begin_write``, ``exists``, ``stat``, ``count_rows``, ``spark_load``, ``spark_save``,
``describe``) are the same for every format and call the hooks a format implements
(``_load``, ``_begin_write``, ``_exists``, ``_stat``, ``_describe`` ...). A dataset is built
for one location (a local path or ``s3://`` URI) and the ``StorageOptions`` Polars needs
there; its class also answers, without any I/O, what IAM and the cost model need to know
about the format (object or prefix, staging keys, whether rows are counted from metadata).

A write is a ``PendingWrite``: staged (sink into it, or let another engine write to its
``target``), then published in one step, or discarded.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import polars as pl

from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io.cancel import CancelToken
from glacier.io.datasets.stored import HIDDEN_PREFIXES, StoredDataset
from glacier.io.location import StorageOptions, is_s3
from glacier.io.staging import STAGING_MARK

__all__ = ["HIDDEN_PREFIXES", "Dataset", "PendingWrite", "StoredDataset"]


class Dataset(ABC):
    """The dataset stored at ``uri`` in this class's format."""

    format: ClassVar[Format]
    is_directory: ClassVar[bool] = False  # a prefix of objects (True) or one object
    counts_rows: ClassVar[bool] = False  # rows come from file metadata, without a data scan
    spark_format: ClassVar[str | None] = None  # Spark's reader/writer name (spark_io); None: via Polars
    # S3 requests beyond the data itself (the cost model): a read's (GETs, LISTs) and a
    # write's (GETs, PUT-rate requests: PUT, COPY, LIST). A file's publish copy and staging
    # LIST are left out of the estimate, which counts one PUT per written object.
    s3_read_overhead: ClassVar[tuple[int, int]] = (0, 0)
    s3_write_overhead: ClassVar[tuple[int, int]] = (0, 0)

    def __init__(
        self,
        uri: str,
        options: StorageOptions | None = None,
        *,
        dtypes: Mapping[str, pl.DataType] | None = None,
    ) -> None:
        self.uri = uri
        self.options = options
        # The declared dtypes: formats that store none (CSV, NDJSON) are scanned as declared.
        self.dtypes: dict[str, pl.DataType] = dict(dtypes or {})

    # -- the public API -------------------------------------------------------------------
    def load(self) -> pl.LazyFrame:
        """A LazyFrame over the published data (nothing is read until it is collected)."""
        return self._load()

    def save(
        self, frame: pl.LazyFrame, *, partition_by: list[str] | None = None, cancel: CancelToken | None = None
    ) -> int | None:
        """Stream ``frame`` here and publish it whole; returns the rows written when the format
        stores them (None when counting would re-read the data). A failure, a cancel or a
        kill publishes nothing."""
        with self.begin_write(partition_by) as pending:
            pending.sink(frame)
            return pending.publish(cancel)

    def begin_write(self, partition_by: list[str] | None = None) -> PendingWrite:
        """Stage a write (``partition_by``: hive keys of a directory; ignored by files)."""
        return self._begin_write(partition_by)

    def exists(self) -> bool:
        return self._exists()

    def stat(self) -> StoredDataset | None:
        """Bytes and fingerprint of the published data; None when nothing is published."""
        return self._stat()

    def count_rows(self) -> int | None:
        """Rows published, from metadata; None for formats that would need a full read."""
        return self._count_rows() if self.counts_rows else None

    def describe(self) -> dict[str, Any]:
        return {"format": self.format.value, "uri": self.uri, **self._describe()}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.describe().items())
        return f"{type(self).__name__}({fields})"

    # -- Spark (``spark_io``: the one Spark read and write path, Polars-free) ----------------
    def spark_load(self, spark: Any, scratch: Path, *, s3_connector: bool = False) -> Any:
        """A Spark DataFrame over the published data. Spark reads the format itself where it
        can reach the data (local files; S3 only with a connector, as on Glue); otherwise
        Polars copies it to a local parquet file in ``scratch`` first."""
        from glacier.io.datasets.spark_io import spark_read

        return spark_read(spark, self.uri, self.format, self.options, scratch, s3_connector=s3_connector)

    def spark_save(
        self,
        df: Any,
        scratch: Path,
        *,
        partition_by: list[str] | None = None,
        cancel: CancelToken | None = None,
        s3_connector: bool = False,
    ) -> int | None:
        """Write Spark DataFrame ``df`` here, published whole as ``save`` does."""
        from glacier.io.datasets.spark_io import spark_write

        rows, _ = spark_write(
            df,
            self.uri,
            self.format,
            self.options,
            scratch,
            partition_by=partition_by,
            cancel=cancel,
            s3_connector=s3_connector,
        )
        return rows

    # -- what IAM and the cost model need (no I/O) ------------------------------------------
    @classmethod
    def object_pattern(cls, path: str) -> str:
        """The object key(s) the dataset covers: its key, or every key under its prefix."""
        return f"{path}*" if cls.is_directory else path

    @classmethod
    def staging_pattern(cls, path: str) -> str | None:
        """The hidden keys a write stages under before publishing (None: under its own
        prefix, covered by ``object_pattern``)."""
        if cls.is_directory:
            return None
        parent, _, name = path.rpartition("/")
        return f"{parent}/" * bool(parent) + f"{STAGING_MARK}*-{name}"

    # -- hooks --------------------------------------------------------------------------------
    def storage_kwargs(self, target: str) -> dict[str, Any]:
        """Keyword arguments of a Polars sink into ``target``."""
        kwargs: dict[str, Any] = {"storage_options": self.options} if self.options else {}
        if not is_s3(target):
            kwargs["mkdir"] = True
        return kwargs

    def _exists(self) -> bool:
        return self._stat() is not None

    def _describe(self) -> dict[str, Any]:
        return {}

    def _count_rows(self) -> int | None:
        return None

    @abstractmethod
    def _load(self) -> pl.LazyFrame: ...

    @abstractmethod
    def _begin_write(self, partition_by: list[str] | None) -> PendingWrite: ...

    @abstractmethod
    def _stat(self) -> StoredDataset | None: ...


class PendingWrite(ABC):
    """A write staged but not yet published (``Dataset.begin_write``). Sink a frame into it
    (or let another engine write to ``target``), then ``publish``; a context manager that
    discards what is left staged on exit."""

    target: str  # where the data is staged: a file, or a directory ending in '/'

    def __init__(self, dataset: Dataset, partition_by: list[str] | None) -> None:
        self.dataset = dataset
        self.partition_by = partition_by
        # The result's schema, asked only when it has no rows (a sink sets it).
        self.schema: Callable[[], pl.Schema] | None = None

    def sink(self, frame: pl.LazyFrame, *, lazy: bool = False) -> pl.LazyFrame | None:
        """Stream ``frame`` into the staged target; with ``lazy=True`` return the sink for
        ``pl.collect_all`` instead (publish after collecting). A plan Polars cannot stream
        is collected in memory first."""
        self.schema = frame.collect_schema
        kwargs = self.dataset.storage_kwargs(self.target)
        if lazy:
            return self._sink(frame, {**kwargs, "lazy": True})
        try:
            self._sink(frame, kwargs)
        except pl.exceptions.InvalidOperationError as exc:
            if "stream" not in str(exc).lower() and "sink" not in str(exc).lower():
                raise
            self._sink(frame.collect().lazy(), kwargs)
        return None

    def publish(self, cancel: CancelToken | None = None) -> int | None:
        """Make the staged data the dataset's in one step (unless ``cancel`` was cancelled);
        returns the rows when the format counts them."""
        rows = self._finish()
        (cancel or CancelToken()).publish(lambda: self._publish(rows))
        self._after_publish()
        return rows

    def columns(self) -> pl.Schema:
        if self.schema is None:
            raise ExecutionError(
                f"The write of '{self.dataset.uri}' staged no data and no schema.",
                fix="write the result through PendingWrite.sink(), or set its schema.",
            )
        return self.schema()

    def __enter__(self) -> PendingWrite:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.discard()

    @abstractmethod
    def discard(self) -> None:
        """Remove what is staged (after a publish nothing is left to remove)."""

    @abstractmethod
    def _sink(self, frame: pl.LazyFrame, kwargs: dict[str, Any]) -> pl.LazyFrame | None: ...

    @abstractmethod
    def _finish(self) -> int | None:
        """Make a zero-row result readable (or refuse it); count the staged rows."""

    @abstractmethod
    def _publish(self, rows: int | None) -> None: ...

    def _after_publish(self) -> None:
        """Housekeeping once published (directories collect old versions)."""
        return None
