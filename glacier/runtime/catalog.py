"""Keep a directory dataset's Glue Data Catalog table on its current version, after a publish.

A directory dataset on S3 is published whole as a version root under its own prefix
(``<prefix>.glacier-v-<writer>/``, named by ``<prefix>_glacier_manifest.json``; see
``glacier.io.datasets.versions_s3``), and the superseded versions stay there for a while. A
table located at the prefix would make Athena read every retained version, so the table is a
*symlink table* (``SymlinkTextInputFormat``, as Delta Lake's Athena integration): its
location is ``<prefix>_glacier_symlink/``, a folder of manifests, each listing the data files
Athena reads. After every publish the runtime rewrites them from the dataset's manifest:

- unpartitioned: ``_glacier_symlink/manifest`` lists the current version's files (one PUT,
  under the dataset's own prefix, which the task role already writes);
- hive-partitioned: one ``_glacier_symlink/<k>=<v>/manifest`` per partition of the current
  version (a ``--partition`` run rewrites only its own), manifests of partitions that are gone
  are deleted (their partition reads as empty), and partitions new to the table are added with
  Glue's ``BatchCreatePartition`` (a partition's location never changes, so an existing one is
  left as it is). The task role may ``glue:GetTable`` and ``glue:BatchCreatePartition`` on that
  one table (``glacier.deploy.iam``).

Table and partition locations never change, so a redeploy (Pulumi owns the table) never
points Athena at a stale version. The folder starts with '_': Glacier's readers skip it.
Between the publish and the manifest PUT, Athena reads the previous version, which is kept.

Imports only the standard library, botocore and glacier's runtime-safe modules.
"""

from __future__ import annotations

from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

from glacier.dag.partitions import partition_path
from glacier.errors import ExecutionError
from glacier.formats import Format
from glacier.io.datasets.objects import put_bytes
from glacier.io.datasets.versions_s3 import S3Versions
from glacier.io.location import StorageOptions, is_s3, split_s3
from glacier.io.s3 import S3Client, aws_client
from glacier.runtime.event import CatalogTarget, DatasetLocation

SYMLINK_FOLDER = "_glacier_symlink"  # under the dataset's prefix: the table's location
MANIFEST = "manifest"
_BATCH = 100  # BatchCreatePartition takes at most 100 partitions per call
_PUT_THREADS = 8


def symlink_location(dataset_uri: str) -> str:
    """The table location of the directory dataset at ``dataset_uri`` (``s3://b/p/``)."""
    return f"{dataset_uri.rstrip('/')}/{SYMLINK_FOLDER}/"


def update_catalog(
    task: str, location: DatasetLocation, partition_by: list[str] | None, options: StorageOptions | None
) -> None:
    """Point the catalog table of the just-published output ``location`` (written with hive
    keys ``partition_by``) at its current files (nothing to do for a dataset without a
    table, a file, or a local path)."""
    if location.catalog is None or location.format is not Format.PARQUET_DIR or not is_s3(location.uri):
        return
    try:
        _update(location, location.catalog, partition_by or [], options)
    except ExecutionError as exc:
        raise _failed(task, location, exc.problem) from exc
    except Exception as exc:  # botocore's errors: the Glue call was refused or failed
        raise _failed(task, location, f"{type(exc).__name__}: {exc}") from exc


def _failed(task: str, location: DatasetLocation, cause: str) -> ExecutionError:
    target = location.catalog
    assert target is not None
    return ExecutionError(
        f"Task '{task}' published '{location.uri}', but its Athena table "
        f"{target.database}.{target.table} could not be updated: {cause}",
        task=task,
        fix="check that the task role may glue:GetTable and glue:BatchCreatePartition on that table "
        "and write under the dataset's prefix (glacier deploy grants both), then run the task again.",
    )


def _update(
    location: DatasetLocation, target: CatalogTarget, keys: list[str], options: StorageOptions | None
) -> None:
    files = current_files(location.uri, options)
    if location.partition:  # one partition, published as its own directory dataset
        root = location.uri.rstrip("/")[: -len(partition_path(location.partition).rstrip("/"))]
        folder = symlink_location(root)
        _put_manifests(folder, {partition_path(location.partition): list(files.values())}, options)
        _add_partitions(target, folder, {partition_path(location.partition): location.partition}, options)
        return
    folder = symlink_location(location.uri)
    if not keys:
        _put_manifests(folder, {"": list(files.values())}, options)
        return
    groups: dict[str, list[str]] = {}
    values: dict[str, dict[str, str]] = {}
    for relative, uri in files.items():
        parts = relative.split("/")[: len(keys)]
        if len(parts) < len(keys) or any(p.partition("=")[0] != k for p, k in zip(parts, keys, strict=True)):
            continue  # the schema-only file of an empty result: no partition holds it
        path = "".join(f"{p}/" for p in parts)
        groups.setdefault(path, []).append(uri)
        values[path] = {k: unquote(p.partition("=")[2]) for p, k in zip(parts, keys, strict=True)}
    _put_manifests(folder, groups, options)
    _drop_stale_manifests(folder, set(groups), options)
    _add_partitions(target, folder, values, options)


def current_files(dataset_uri: str, options: StorageOptions | None) -> dict[str, str]:
    """The data files of the directory dataset's current version: path relative to the
    version root (``date=2026-11-30/00000000.parquet``) -> its ``s3://`` URI."""
    versions = S3Versions(dataset_uri, options)
    manifest = versions.manifest()
    if manifest is not None and manifest.root is None:
        raise ExecutionError(f"'{versions.uri()}' is still being published by another writer.")
    root = manifest.root if manifest is not None and manifest.root is not None else ""
    files = manifest.files if manifest is not None else versions.files()
    return {f.key: versions.uri(root + f.key) for f in files}


def _put_manifests(folder: str, groups: Mapping[str, list[str]], options: StorageOptions | None) -> None:
    bucket, prefix = split_s3(folder)

    def put(item: tuple[str, list[str]]) -> None:
        path, uris = item
        put_bytes(
            bucket, f"{prefix}{path}{MANIFEST}", "".join(f"{u}\n" for u in sorted(uris)).encode(), options
        )

    with ThreadPoolExecutor(max_workers=_PUT_THREADS) as pool:
        list(pool.map(put, sorted(groups.items())))


def _drop_stale_manifests(folder: str, current: set[str], options: StorageOptions | None) -> None:
    bucket, prefix = split_s3(folder)
    client = S3Client(options)
    for obj in client.list(bucket, prefix):
        path = obj.key[len(prefix) :].removesuffix(MANIFEST)
        if path not in current:
            client.delete(bucket, obj.key)


def _add_partitions(
    target: CatalogTarget,
    folder: str,
    partitions: Mapping[str, dict[str, str]],
    options: StorageOptions | None,
) -> None:
    """Add the partitions the table lacks (``partitions``: the sub-path of each, as stored,
    -> its values), each located at its manifest folder (one that exists already keeps its
    location, which is the same)."""
    if not partitions:
        return
    glue = glue_client(options)
    table = glue.get_table(DatabaseName=target.database, Name=target.table)["Table"]
    keys = [k["Name"] for k in table.get("PartitionKeys", [])]
    described = table["StorageDescriptor"]
    template = {
        k: described[k] for k in ("Columns", "InputFormat", "OutputFormat", "SerdeInfo") if k in described
    }
    # The table's keys are lowercase (Hive names); the dataset's may not be.
    lowered = {path: {k.lower(): v for k, v in values.items()} for path, values in partitions.items()}
    inputs = [
        {
            "Values": [values[k] for k in keys],
            "StorageDescriptor": {
                **template,
                "Location": folder + path,
            },
        }
        for path, values in sorted(lowered.items())
    ]
    for start in range(0, len(inputs), _BATCH):
        response = glue.batch_create_partition(
            DatabaseName=target.database,
            TableName=target.table,
            PartitionInputList=inputs[start : start + _BATCH],
        )
        errors = [
            e
            for e in response.get("Errors", [])
            if e.get("ErrorDetail", {}).get("ErrorCode") != "AlreadyExistsException"
        ]
        if errors:
            detail = errors[0].get("ErrorDetail", {})
            raise ExecutionError(
                f"Glue refused partition {errors[0].get('PartitionValues')}: "
                f"{detail.get('ErrorCode')}: {detail.get('ErrorMessage')}"
            )


def glue_client(options: StorageOptions | None) -> Any:
    """botocore's Glue client with the credentials, region and endpoint the S3 options name."""
    return aws_client("glue", options)
