"""The thin runtime: what runs inside AWS (Lambda handler, the Spark entry script for Glue /
EMR Serverless) and the read -> run -> write core the local runner shares. Imports only
polars, pydantic, the standard library and the user's module; the core and the pyspark path
(``core``, ``spark_entry``, ``spark_engine``) import no Polars at all."""
