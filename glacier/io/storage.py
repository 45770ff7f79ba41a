"""Which storage a local run reads and writes: the one rule shared by the local runner and
``Bucket.scan()``, so a scan reads exactly where ``run(mode="local")`` wrote."""

from __future__ import annotations

from pathlib import Path

from glacier.config import AwsConfig, LocalConfig, StorageConfig
from glacier.errors import ConfigError

DEFAULT_LOCAL = "./data"


def resolve_storage(pipeline_storage: StorageConfig, storage: StorageConfig | str | None) -> StorageConfig:
    """``None`` or ``"local"``: the pipeline's storage if local, else ``./data`` on local disk;
    ``"s3"``: the pipeline's AwsConfig; a config object: that."""
    if storage is None or storage == "local":
        if isinstance(pipeline_storage, LocalConfig):
            return pipeline_storage
        return LocalConfig(base_path=DEFAULT_LOCAL)
    if storage == "s3":
        if not isinstance(pipeline_storage, AwsConfig):
            raise ConfigError(
                "storage='s3' was asked for, but the pipeline's provider uses LocalConfig.",
                fix="create the provider with Provider(config=AwsConfig(...)), or pass "
                "storage=AwsConfig(...) explicitly.",
            )
        return pipeline_storage
    if isinstance(storage, AwsConfig | LocalConfig):
        return storage
    raise ConfigError(
        f"run(storage={storage!r}) is not a storage.",
        fix="pass None (local disk), 's3', LocalConfig(base_path=...) or AwsConfig(...).",
    )


def describe_storage(storage: StorageConfig) -> str:
    """A short label for run history: ``local:<absolute folder>`` or ``s3:<endpoint or region>``."""
    if isinstance(storage, LocalConfig):
        return f"local:{Path(storage.base_path).resolve()}"
    return f"s3:{storage.endpoint_url or storage.region}"
