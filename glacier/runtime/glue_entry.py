"""The Glue / EMR Serverless entry script under its first name: every job now runs
``glacier.runtime.spark_entry`` (a SparkSession for pyspark tasks and co-partitioned Polars
tasks, Polars on the driver for the others), with the same ``--glacier-event`` argument.
Kept so jobs deployed with this script path keep running."""

from __future__ import annotations

from glacier.runtime.spark_entry import main, parse_event, run_event

__all__ = ["main", "parse_event", "run_event"]

if __name__ == "__main__":
    main()
