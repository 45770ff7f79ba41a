"""Glue Data Catalog tables for datasets with a schema, so outputs are queryable in Athena.

The pure half maps a dataset (bucket, path, format, schema, partition keys) to a
``CatalogTableSpec``: Hive column types from the Polars dtype names, the SerDe and input /
output formats of its file format, its S3 location. The Pulumi half declares one
``aws.glue.CatalogDatabase`` (per program) and an ``aws.glue.CatalogTable`` per spec.

Athena reads every object under a table's LOCATION prefix, so no table is located at a
dataset's own path: each is a symlink table (``SymlinkTextInputFormat``) whose location holds
manifests listing the data files to read. A single file (``raw/orders.csv``), published in
place, gets one manifest naming it, declared here in the artifacts bucket. A directory
dataset is published as versions under its prefix (several retained at once), so its table
is located at ``<prefix>_glacier_symlink/``, whose manifests the runtime rewrites after every
publish (``glacier.runtime.catalog``); its hive keys become partition keys, which the runtime
adds as partitions appear.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, replace

import pulumi
import pulumi_aws as aws

from glacier.dag.schema import DtypeSpec, parse_dtype
from glacier.errors import DeploymentError
from glacier.formats import Format
from glacier.runtime.catalog import symlink_location
from glacier.runtime.event import CatalogTarget

TABLE_NAME_MAX = 255
MANIFEST_PREFIX = "glacier-catalog"  # artifacts-bucket prefix of the symlink manifests

_PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
_TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
_SYMLINK_INPUT = "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"


@dataclass(frozen=True)
class StorageFormat:
    """How Hive/Athena reads one file format."""

    classification: str
    input_format: str
    output_format: str
    serde: str
    serde_parameters: tuple[tuple[str, str], ...] = ()
    table_parameters: tuple[tuple[str, str], ...] = ()


_PARQUET = StorageFormat(
    "parquet",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
    "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat",
    _PARQUET_SERDE,
)
STORAGE_FORMATS: dict[Format, StorageFormat] = {
    Format.PARQUET: _PARQUET,
    Format.PARQUET_DIR: _PARQUET,
    # Polars writes a header row, ',' separators and '"' quotes where needed: OpenCSVSerde
    # understands the quotes (LazySimpleSerDe would not).
    Format.CSV: StorageFormat(
        "csv",
        "org.apache.hadoop.mapred.TextInputFormat",
        _TEXT_OUTPUT,
        "org.apache.hadoop.hive.serde2.OpenCSVSerde",
        (("escapeChar", "\\"), ("quoteChar", '"'), ("separatorChar", ",")),
        (("skip.header.line.count", "1"),),
    ),
    Format.NDJSON: StorageFormat(
        "json", "org.apache.hadoop.mapred.TextInputFormat", _TEXT_OUTPUT, "org.openx.data.jsonserde.JsonSerDe"
    ),
}

_HIVE_SCALARS = {
    "Boolean": "boolean",
    "Int8": "tinyint",
    "Int16": "smallint",
    "Int32": "int",
    "Int64": "bigint",
    # Hive has no unsigned integers: each widens to the next signed type (UInt64 to bigint,
    # the widest Hive integer).
    "UInt8": "smallint",
    "UInt16": "int",
    "UInt32": "bigint",
    "UInt64": "bigint",
    "Float32": "float",
    "Float64": "double",
    "String": "string",
    "Categorical": "string",
    "Enum": "string",
    "Binary": "binary",
    "Date": "date",
    "Datetime": "timestamp",
}


@dataclass(frozen=True)
class CatalogTableSpec:
    """Everything a Glue table needs, as plain data (no pulumi objects)."""

    dataset: str  # the dataset id, bucket/path
    name: str  # the Glue table name
    columns: tuple[tuple[str, str], ...]  # (column, Hive type), partition keys excluded
    partition_keys: tuple[tuple[str, str], ...]
    storage: StorageFormat
    location: str | None  # s3://bucket/prefix/ ; None: a symlink table (see manifest_key)
    manifest_key: str | None = None  # key of the manifest object in the manifest bucket
    manifest_body: str | None = None  # the data file's URI

    def manifest_location(self, manifest_bucket: str) -> str:
        return f"s3://{manifest_bucket}/{self.manifest_key.rsplit('/', 1)[0]}/" if self.manifest_key else ""


def hive_type(dtype: str, *, dataset: str, column: str) -> str:
    """The Hive / Athena type of a Polars dtype name (``List(Int64)`` -> ``array<bigint>``)."""
    return _hive(parse_dtype(dtype), dataset, column)


def _hive(spec: DtypeSpec, dataset: str, column: str) -> str:
    if spec.name in _HIVE_SCALARS:
        return _HIVE_SCALARS[spec.name]
    if spec.name == "Decimal":
        return f"decimal({spec.option('precision', 38)},{spec.option('scale', 0)})"
    if spec.name in ("List", "Array") and spec.inner:
        return f"array<{_hive(spec.inner[0], dataset, column)}>"
    if spec.name == "Struct":
        fields = ",".join(f"{_hive_name(k, dataset)}:{_hive(v, dataset, column)}" for k, v in spec.fields)
        return f"struct<{fields}>"
    raise DeploymentError(
        f"Dataset '{dataset}' column '{column}' is {spec.as_python('')}, which the Glue Data Catalog "
        "(Hive types) cannot describe.",
        fix=f"cast '{column}' to a supported type in the task that writes it (e.g. a Duration to "
        "Int64 microseconds, a Time to String), or drop it.",
    )


def table_name(bucket: str, path: str) -> str:
    """The Glue table name of a dataset: lowercase letters, digits and '_' only (Hive)."""
    stem = path.rstrip("/")
    leaf = stem.rsplit("/", 1)[-1]
    if "." in leaf:  # the suffix names the format, not the table
        stem = stem[: len(stem) - len(leaf)] + leaf.rsplit(".", 1)[0]
    name = re.sub(r"[^a-z0-9]+", "_", f"{bucket}_{stem}".lower()).strip("_")
    return name[:TABLE_NAME_MAX]


def database_name(name: str) -> str:
    """A Glue database name from a user-declared id (project / stack): lowercase, '_'."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:TABLE_NAME_MAX] or "glacier"


def table_spec(
    *,
    bucket: str,
    path: str,
    fmt: Format,
    schema: Mapping[str, str],
    partition_by: Sequence[str] = (),
) -> CatalogTableSpec:
    """The table of one dataset. ``partition_by``: the hive keys of a directory dataset."""
    dataset = f"{bucket}/{path}"
    storage = STORAGE_FORMATS.get(fmt)
    if storage is None:
        raise DeploymentError(
            f"Dataset '{dataset}' is stored as {fmt.value}, which Athena cannot read, so it gets no "
            "catalog table.",
            fix="store it as .parquet, .csv or .ndjson (or a parquet directory) to query it in Athena.",
        )
    columns = _hive_columns(dataset, schema)
    keys = {_hive_name(k, dataset) for k in partition_by}
    unknown = sorted(keys - {name for name, _ in columns})
    if unknown:
        raise DeploymentError(
            f"Dataset '{dataset}' is partitioned by {', '.join(unknown)}, which its schema does not have.",
            fix="partition by columns the dataset has.",
        )
    name = table_name(bucket, path)
    spec = CatalogTableSpec(
        dataset=dataset,
        name=name,
        columns=tuple((c, t) for c, t in columns if c not in keys),
        partition_keys=tuple((c, t) for c, t in columns if c in keys),
        storage=replace(storage, input_format=_SYMLINK_INPUT, output_format=_TEXT_OUTPUT),
        location=symlink_location(f"s3://{bucket}/{path}"),
    )
    if fmt is Format.PARQUET_DIR:
        return spec
    return replace(
        spec,
        location=None,
        manifest_key=f"{MANIFEST_PREFIX}/{name}/manifest",
        manifest_body=f"s3://{bucket}/{path}\n",
    )


def catalog_targets(specs: Iterable[CatalogTableSpec], database: str) -> dict[str, CatalogTarget]:
    """Dataset id -> the table the runtime keeps on the dataset's current version (directory
    datasets: their manifests are rewritten after each publish)."""
    return {
        spec.dataset: CatalogTarget(database=database, table=spec.name)
        for spec in specs
        if spec.manifest_key is None
    }


def _hive_columns(dataset: str, schema: Mapping[str, str]) -> list[tuple[str, str]]:
    columns: dict[str, str] = {}
    for column, dtype in schema.items():
        name = _hive_name(column, dataset)
        if name in columns:
            raise DeploymentError(
                f"Dataset '{dataset}' has columns that differ only in case ('{column}'); the Glue "
                "Data Catalog lowercases column names.",
                fix=f"rename '{column}' in the task that writes it.",
            )
        columns[name] = hive_type(dtype, dataset=dataset, column=column)
    return list(columns.items())


def _hive_name(column: str, dataset: str) -> str:
    if not column or any(c in column for c in ",:<>`"):
        raise DeploymentError(
            f"Dataset '{dataset}' has column {column!r}, which Hive column names cannot hold.",
            fix="rename it to letters, digits and '_' in the task that writes it.",
        )
    return column.lower()


# -- Pulumi ---------------------------------------------------------------------------------
def table_args(
    spec: CatalogTableSpec,
    *,
    database: pulumi.Input[str],
    region: str,
    manifest_bucket: pulumi.Input[str] | None = None,
) -> aws.glue.CatalogTableArgs:
    """The ``aws.glue.CatalogTable`` arguments of a spec (EXTERNAL_TABLE)."""
    if spec.location is not None:
        location: pulumi.Input[str] = spec.location
    elif manifest_bucket is None:
        raise DeploymentError(
            f"Dataset '{spec.dataset}' is a single file: its catalog table needs a manifest bucket.",
            fix="pass the artifacts bucket as manifest_bucket.",
        )
    else:
        location = pulumi.Output.from_input(manifest_bucket).apply(spec.manifest_location)
    fmt = spec.storage
    return aws.glue.CatalogTableArgs(
        name=spec.name,
        database_name=database,
        table_type="EXTERNAL_TABLE",
        region=region,
        description=f"Glacier dataset {spec.dataset}",
        parameters={"EXTERNAL": "TRUE", "classification": fmt.classification, **dict(fmt.table_parameters)},
        partition_keys=[aws.glue.CatalogTablePartitionKeyArgs(name=n, type=t) for n, t in spec.partition_keys]
        or None,
        storage_descriptor=aws.glue.CatalogTableStorageDescriptorArgs(
            location=location,
            input_format=fmt.input_format,
            output_format=fmt.output_format,
            columns=[
                aws.glue.CatalogTableStorageDescriptorColumnArgs(name=n, type=t) for n, t in spec.columns
            ],
            ser_de_info=aws.glue.CatalogTableStorageDescriptorSerDeInfoArgs(
                serialization_library=fmt.serde, parameters=dict(fmt.serde_parameters) or None
            ),
        ),
    )


@dataclass(frozen=True)
class CatalogDeclaration:
    """Where a program's catalog lives and how its children are declared."""

    database: aws.glue.CatalogDatabase
    region: str
    tags: Mapping[str, str]
    name: str = ""  # the database's name (known before it is created: ``database_name``)


def declare_database(
    resource_name: str, name: str, *, region: str, opts: pulumi.ResourceOptions | None = None
) -> aws.glue.CatalogDatabase:
    """The program's one Glue database (its name: ``database_name(project or stack)``)."""
    return aws.glue.CatalogDatabase(
        resource_name,
        name=database_name(name),
        description="Tables of the datasets Glacier pipelines write and read.",
        region=region,
        opts=opts,
    )


DATA_CATALOG_TYPE = "glacier:aws:DataCatalog"
DATA_CATALOG_NAME = "data-catalog"


class DataCatalog(pulumi.ComponentResource):
    """The program's Glue Data Catalog database, declared once (like its data buckets); the
    pipeline components declare their datasets' tables in it."""

    database: aws.glue.CatalogDatabase

    def __init__(
        self,
        name: str,
        database: str,
        *,
        region: str,
        tags: Mapping[str, str],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(DATA_CATALOG_TYPE, name, None, opts)
        self.database = declare_database(
            f"{name}-database", database, region=region, opts=pulumi.ResourceOptions(parent=self)
        )
        self.declaration = CatalogDeclaration(self.database, region, tags, database_name(database))
        self.register_outputs({"database": self.database.name})


def declare_tables(
    parent: pulumi.Resource,
    prefix: str,
    specs: Iterable[CatalogTableSpec],
    *,
    catalog: CatalogDeclaration,
    manifest_bucket: pulumi.Input[str],
    registry: MutableMapping[str, pulumi.Resource] | None = None,
) -> dict[str, aws.glue.CatalogTable]:
    """One table per spec, children of ``parent``, named ``<prefix>-table-<table name>``.

    ``registry`` (dataset id -> table) keeps a dataset that several pipelines share to one
    table, declared by the first. Two datasets mapping to one table name is an error."""
    registry = registry if registry is not None else {}
    pending = [spec for spec in _distinct_names(specs) if spec.dataset not in registry]
    tables: dict[str, aws.glue.CatalogTable] = {}
    for spec in pending:
        opts = pulumi.ResourceOptions(parent=parent)
        args = table_args(
            spec, database=catalog.database.name, region=catalog.region, manifest_bucket=manifest_bucket
        )
        table = aws.glue.CatalogTable(f"{prefix}-table-{spec.name}", args, opts=opts)
        if spec.manifest_key is not None and spec.manifest_body is not None:
            aws.s3.BucketObjectv2(
                f"{prefix}-table-{spec.name}-manifest",
                bucket=manifest_bucket,
                key=spec.manifest_key,
                content=spec.manifest_body,
                content_type="text/plain",
                region=catalog.region,
                tags=dict(catalog.tags),
                opts=opts,
            )
        registry[spec.dataset] = tables[spec.dataset] = table
    return tables


def _distinct_names(specs: Iterable[CatalogTableSpec]) -> list[CatalogTableSpec]:
    """The specs, checked (before anything is declared) to map distinct datasets to
    distinct table names."""
    listed = list(specs)
    names: dict[str, str] = {}
    for spec in listed:
        if names.setdefault(spec.name, spec.dataset) != spec.dataset:
            raise DeploymentError(
                f"Datasets '{names[spec.name]}' and '{spec.dataset}' both map to Glue table '{spec.name}'.",
                fix="give one of them a path that differs in more than punctuation or suffix.",
            )
    return listed
