"""One dataset class per storage format (see ``base.Dataset`` for the API).

``dataset_class(fmt)`` is the class for a format (what IAM and the cost model ask about);
``open_dataset(uri, fmt, options, dtypes=...)`` is the dataset stored at one location.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from glacier.formats import Format
from glacier.io.datasets.base import HIDDEN_PREFIXES, Dataset, StoredDataset
from glacier.io.datasets.directory import ParquetDirectoryDataset
from glacier.io.datasets.files import CsvDataset, FileDataset, IpcDataset, NdjsonDataset, ParquetDataset
from glacier.io.location import StorageOptions

DATASETS: dict[Format, type[Dataset]] = {
    cls.format: cls
    for cls in (ParquetDataset, CsvDataset, NdjsonDataset, IpcDataset, ParquetDirectoryDataset)
}


def dataset_class(fmt: Format) -> type[Dataset]:
    return DATASETS[fmt]


def open_dataset(
    uri: str,
    fmt: Format,
    options: StorageOptions | None = None,
    *,
    dtypes: Mapping[str, pl.DataType] | None = None,
) -> Dataset:
    """``dtypes``: the declared columns, which a CSV or NDJSON scan reads as declared."""
    return DATASETS[fmt](uri, options, dtypes=dtypes)


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
