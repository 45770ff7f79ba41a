"""Dataset I/O shared by the local runner and the cloud entry points: locations, one dataset
class per format (``glacier.io.datasets``: scans, atomic streaming writes, whole publishes,
what is stored), and the staging names (``glacier.io.staging``). Imports only polars,
botocore, the standard library and glacier's pure modules.

The names load on first use (PEP 562): a pyspark task's Spark job imports the staging and
publishing modules (``glacier.io.datasets.spark_io``) without Polars, which it does not have.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from glacier.lazy import lazy_attributes

if TYPE_CHECKING:
    from glacier.io.cancel import CancelToken, WriteCancelled
    from glacier.io.datasets import Dataset, dataset_class, open_dataset
    from glacier.io.frames import as_lazy, scan_dataset
    from glacier.io.location import (
        StorageOptions,
        aws_storage_options,
        dataset_uri,
        is_s3,
        split_s3,
        storage_options,
    )
    from glacier.io.read import StoredDataset, scan_uri, stat_uri
    from glacier.io.write import count_rows, write_atomic

_HOMES = {
    "CancelToken": "glacier.io.cancel",
    "WriteCancelled": "glacier.io.cancel",
    "Dataset": "glacier.io.datasets",
    "dataset_class": "glacier.io.datasets",
    "open_dataset": "glacier.io.datasets",
    "as_lazy": "glacier.io.frames",
    "scan_dataset": "glacier.io.frames",
    "StorageOptions": "glacier.io.location",
    "aws_storage_options": "glacier.io.location",
    "dataset_uri": "glacier.io.location",
    "is_s3": "glacier.io.location",
    "split_s3": "glacier.io.location",
    "storage_options": "glacier.io.location",
    "StoredDataset": "glacier.io.datasets.stored",
    "scan_uri": "glacier.io.read",
    "stat_uri": "glacier.io.read",
    "count_rows": "glacier.io.write",
    "write_atomic": "glacier.io.write",
}

__all__ = [
    "CancelToken",
    "Dataset",
    "StorageOptions",
    "StoredDataset",
    "WriteCancelled",
    "as_lazy",
    "aws_storage_options",
    "count_rows",
    "dataset_class",
    "dataset_uri",
    "is_s3",
    "open_dataset",
    "scan_dataset",
    "scan_uri",
    "split_s3",
    "stat_uri",
    "storage_options",
    "write_atomic",
]


__getattr__ = lazy_attributes(globals(), _HOMES)


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
