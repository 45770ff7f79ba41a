"""The thin runtime: what runs inside AWS (Lambda handler, Glue / EMR entry script) and the
read -> run -> write core the local runner shares. Imports only polars, pydantic, the
standard library and the user's module."""
