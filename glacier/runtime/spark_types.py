"""Polars dtypes as Spark types (a co-partitioned task's output schema) and the Arrow schema
Spark expects back from ``mapInArrow`` for them."""

from __future__ import annotations

from typing import Any

import polars as pl

from glacier.errors import ExecutionError

_SIMPLE = {
    pl.Int8: "ByteType",
    pl.Int16: "ShortType",
    pl.Int32: "IntegerType",
    pl.Int64: "LongType",
    pl.UInt8: "ShortType",
    pl.UInt16: "IntegerType",
    pl.UInt32: "LongType",
    pl.Float32: "FloatType",
    pl.Float64: "DoubleType",
    pl.Boolean: "BooleanType",
    pl.String: "StringType",
    pl.Date: "DateType",
    pl.Binary: "BinaryType",
    pl.Null: "NullType",
}


def spark_type(dtype: Any, column: str, task: str) -> Any:
    """The Spark type of Polars dtype ``dtype`` (an instance or a class)."""
    from pyspark.sql import types as T

    base = dtype.base_type()
    if base in _SIMPLE:
        return getattr(T, _SIMPLE[base])()
    if isinstance(dtype, pl.Datetime):
        return T.TimestampType() if dtype.time_zone else T.TimestampNTZType()
    if isinstance(dtype, pl.Decimal):
        return T.DecimalType(dtype.precision or 38, dtype.scale)
    if isinstance(dtype, pl.List | pl.Array):
        return T.ArrayType(spark_type(dtype.inner, column, task))
    if isinstance(dtype, pl.Struct):
        return T.StructType([T.StructField(f.name, spark_type(f.dtype, column, task)) for f in dtype.fields])
    raise ExecutionError(
        f"Task '{task}' returns column '{column}' of dtype {dtype}, which Spark has no type for.",
        task=task,
        fix=f"cast '{column}' to a Spark-compatible dtype (e.g. Int64, Float64, String, Datetime), or "
        "drop partition_by to run the task with Polars on one node.",
    )


def spark_schema(schema: pl.Schema, *, task: str) -> Any:
    from pyspark.sql import types as T

    return T.StructType(
        [T.StructField(name, spark_type(dtype, name, task)) for name, dtype in schema.items()]
    )


def arrow_schema_for(schema: pl.Schema) -> Any:
    """The Arrow schema Spark reads a batch of ``spark_schema(schema)`` from."""
    from pyspark.sql.pandas.types import to_arrow_schema

    return to_arrow_schema(spark_schema(schema, task="?"))
