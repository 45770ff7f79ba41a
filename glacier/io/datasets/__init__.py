"""One dataset class per storage format (see ``base.Dataset`` for the API).

``dataset_class(fmt)`` is the class for a format (what IAM and the cost model ask about);
``open_dataset(uri, fmt, options, dtypes=...)`` is the dataset stored at one location. The classes load
on first use (PEP 562): the Spark path (``spark_io``, ``versions_*``, ``filestage``) runs
without Polars.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from glacier.formats import Format
from glacier.io.datasets.stored import HIDDEN_PREFIXES, StoredDataset
from glacier.io.location import StorageOptions
from glacier.lazy import lazy_attributes

if TYPE_CHECKING:
    import polars as pl

    from glacier.io.datasets.base import Dataset
    from glacier.io.datasets.directory import ParquetDirectoryDataset
    from glacier.io.datasets.files import CsvDataset, FileDataset, IpcDataset, NdjsonDataset, ParquetDataset

_HOMES = {
    "Dataset": "glacier.io.datasets.base",
    "ParquetDirectoryDataset": "glacier.io.datasets.directory",
    "CsvDataset": "glacier.io.datasets.files",
    "FileDataset": "glacier.io.datasets.files",
    "IpcDataset": "glacier.io.datasets.files",
    "NdjsonDataset": "glacier.io.datasets.files",
    "ParquetDataset": "glacier.io.datasets.files",
}


@cache
def _datasets() -> dict[Format, type[Dataset]]:
    from glacier.io.datasets.directory import ParquetDirectoryDataset
    from glacier.io.datasets.files import CsvDataset, IpcDataset, NdjsonDataset, ParquetDataset

    return {
        cls.format: cls
        for cls in (ParquetDataset, CsvDataset, NdjsonDataset, IpcDataset, ParquetDirectoryDataset)
    }


def dataset_class(fmt: Format) -> type[Dataset]:
    return _datasets()[fmt]


def open_dataset(
    uri: str,
    fmt: Format,
    options: StorageOptions | None = None,
    *,
    dtypes: Mapping[str, pl.DataType] | None = None,
) -> Dataset:
    """``dtypes``: the declared columns, which a CSV or NDJSON scan reads as declared."""
    return _datasets()[fmt](uri, options, dtypes=dtypes)


_named = lazy_attributes(globals(), _HOMES)


def __getattr__(name: str) -> Any:
    return _datasets() if name == "DATASETS" else _named(name)


__all__ = [
    "DATASETS",
    "HIDDEN_PREFIXES",
    "CsvDataset",
    "Dataset",
    "FileDataset",
    "IpcDataset",
    "NdjsonDataset",
    "ParquetDataset",
    "ParquetDirectoryDataset",
    "StoredDataset",
    "dataset_class",
    "open_dataset",
]
