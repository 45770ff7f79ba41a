"""Polars dtypes as Spark types: the Spark schema a declared CSV / NDJSON input is read with,
a partition key's column, a co-partitioned task's output schema, and the Arrow schema Spark
expects back from ``mapInArrow`` for it.

One mapping, by dtype name as Polars prints it (``glacier.dag.schema.parse_dtype``), so a
pyspark task's job, which has no Polars, types its declared inputs the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from glacier.dag.schema import DtypeSpec, parse_dtype
from glacier.errors import ExecutionError

if TYPE_CHECKING:
    import polars as pl

_SIMPLE = {
    "Int8": "ByteType",
    "Int16": "ShortType",
    "Int32": "IntegerType",
    "Int64": "LongType",
    "UInt8": "ShortType",
    "UInt16": "IntegerType",
    "UInt32": "LongType",
    "Float32": "FloatType",
    "Float64": "DoubleType",
    "Boolean": "BooleanType",
    "String": "StringType",
    "Date": "DateType",
    "Binary": "BinaryType",
    "Null": "NullType",
}


def spark_type(dtype: Any, column: str, task: str) -> Any:
    """The Spark type of a Polars dtype (an instance, a class, or its printed name)."""
    name = dtype if isinstance(dtype, str) else str(dtype() if isinstance(dtype, type) else dtype)
    try:
        spec = parse_dtype(name)
    except ValueError:
        spec = DtypeSpec(name)
    return _spark(spec, column, task)


def _spark(spec: DtypeSpec, column: str, task: str) -> Any:
    from pyspark.sql import types as T

    if spec.name in _SIMPLE:
        return getattr(T, _SIMPLE[spec.name])()
    if spec.name == "Datetime":
        return T.TimestampType() if spec.option("time_zone") else T.TimestampNTZType()
    if spec.name == "Decimal":
        return T.DecimalType(spec.option("precision") or 38, spec.option("scale") or 0)
    if spec.name in ("List", "Array") and spec.inner:
        return T.ArrayType(_spark(spec.inner[0], column, task))
    if spec.name == "Struct":
        return T.StructType([T.StructField(k, _spark(v, column, task)) for k, v in spec.fields])
    raise ExecutionError(
        f"Task '{task}' has column '{column}' of dtype {spec.as_python('')}, which Spark has no type for.",
        task=task,
        fix=f"cast '{column}' to a Spark-compatible dtype (e.g. Int64, Float64, String, Datetime), or "
        "drop partition_by to run the task with Polars on one node.",
    )


def spark_schema(schema: pl.Schema, *, task: str) -> Any:
    from pyspark.sql import types as T

    return T.StructType(
        [T.StructField(name, spark_type(dtype, name, task)) for name, dtype in schema.items()]
    )


def declared_schema(
    columns: list[str], declared: Mapping[str, str], inferred: Mapping[str, Any], *, task: str
) -> Any:
    """The Spark schema a text file with header / fields ``columns`` is read with: each
    declared column as declared, the others as Spark ``inferred`` them."""
    from pyspark.sql import types as T

    typed = {name: spark_type(dtype, name, task) for name, dtype in declared.items()}
    return T.StructType(
        [T.StructField(name, typed[name] if name in typed else inferred[name]) for name in columns]
    )


def arrow_schema_for(schema: pl.Schema) -> Any:
    """The Arrow schema Spark reads a batch of ``spark_schema(schema)`` from."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(spark_schema(schema, task="?"))
