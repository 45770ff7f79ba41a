"""Provider: the entry point that creates storage (buckets) and executors."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, overload

from glacier.config import AwsConfig, LambdaConfig, LocalConfig, SparkConfig, StorageConfig
from glacier.dag.partitions import partition_keys
from glacier.dag.refs import normalize_location
from glacier.dsl.bucket import Bucket
from glacier.dsl.task import Task
from glacier.errors import ConfigError, DefinitionError

if TYPE_CHECKING:
    from glacier.dag.model import ExecutorKind, ExecutorSpec


class ExecutionResource:
    """Where tasks run. ``@executor.task()`` binds a function to it."""

    type: ClassVar[ExecutorKind]
    config: LambdaConfig | SparkConfig

    def __init__(self, provider: Provider, config: LambdaConfig | SparkConfig) -> None:
        self.provider = provider
        self.config = config

    @property
    def spec(self) -> ExecutorSpec:
        """The executor as DAG data; one shared (immutable) instance for all its tasks."""
        from glacier.dag.model import ExecutorSpec  # the typed DAG: only when compiling

        spec: ExecutorSpec | None = self.__dict__.get("_spec")
        if spec is None or spec.config is not self.config or spec.kind != self.type:
            # The config was checked when this executor was made (its class, its fields).
            spec = ExecutorSpec.model_construct(kind=self.type, config=self.config)
            self.__dict__["_spec"] = spec
        return spec

    @overload
    def task(self, func: Callable[..., Any], /) -> Task: ...
    @overload
    def task(
        self,
        func: None = None,
        /,
        *,
        name: str | None = None,
        timeout: float | None = None,
        retries: int = 0,
        cache: bool = False,
        retry_on: tuple[builtins.type[BaseException], ...] = (),
        **config: Any,
    ) -> Callable[[Callable[..., Any]], Task]: ...

    def task(
        self,
        func: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        timeout: float | None = None,
        retries: int = 0,
        cache: bool = False,
        retry_on: tuple[builtins.type[BaseException], ...] = (),
        **config: Any,
    ) -> Task | Callable[[Callable[..., Any]], Task]:
        """Decorator: ``@executor.task``, ``@executor.task()`` or ``@executor.task(name=..., ...)``."""

        def decorator(f: Callable[..., Any]) -> Task:
            return Task(
                func=f,
                executor=self,
                name=name if name is not None else getattr(f, "__name__", ""),
                timeout=timeout,
                retries=retries,
                cache=cache,
                config=config,
                retry_on=retry_on,
            )

        return decorator if func is None else decorator(func)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"


class LocalExecutor(ExecutionResource):
    """Runs on the laptop; deploys as a Lambda function."""

    type = "local"


class ServerlessExecutor(ExecutionResource):
    """Runs as an AWS Lambda function."""

    type = "serverless"


class SparkExecutor(ExecutionResource):
    """Runs as a Glue (or EMR Serverless) job; locally with Polars or local Spark."""

    type = "spark"


def _expect(value: Any, kind: type, what: str) -> Any:
    if value is None:
        return kind()
    if not isinstance(value, kind):
        raise ConfigError(
            f"{what} got config={type(value).__name__}(...), which is not a {kind.__name__}.",
            fix=f"pass config={kind.__name__}(...).",
        )
    return value


class Provider:
    """Creates buckets and executors bound to one storage configuration."""

    def __init__(self, config: StorageConfig | None = None) -> None:
        if config is not None and not isinstance(config, AwsConfig | LocalConfig):
            raise ConfigError(
                f"Provider got config={config!r}.",
                fix="pass Provider(config=AwsConfig(region=...)) or "
                "Provider(config=LocalConfig(base_path=...)).",
            )
        self.config: StorageConfig = config or LocalConfig()

    def local(self, config: LambdaConfig | None = None) -> LocalExecutor:
        return LocalExecutor(self, _expect(config, LambdaConfig, "provider.local()"))

    def serverless(self, config: LambdaConfig | None = None) -> ServerlessExecutor:
        return ServerlessExecutor(self, _expect(config, LambdaConfig, "provider.serverless()"))

    def spark(self, config: SparkConfig | None = None) -> SparkExecutor:
        return SparkExecutor(self, _expect(config, SparkConfig, "provider.spark()"))

    def bucket(
        self,
        bucket: str,
        path: str,
        *,
        managed: bool = True,
        schema: Any = None,
        schema_mode: str = "freeze",
        partition_by: Sequence[str] | None = None,
        **config: Any,
    ) -> Bucket:
        """A dataset at ``path`` inside ``bucket``. ``managed=False`` references an existing
        S3 bucket that Glacier will not create. ``schema=`` declares its columns (a dict of
        column -> Polars dtype, or a ``pl.Schema``); ``schema_mode='evolve'`` lets new columns
        through where the default ``'freeze'`` is exact. ``partition_by=["date"]`` declares a
        hive-partitioned directory dataset (``path/date=.../``) that runs and backfills one
        partition at a time."""
        ref = normalize_location(bucket, path)
        if not isinstance(managed, bool):
            raise DefinitionError(
                f"Dataset '{ref.id}' has managed={managed!r}.",
                fix="pass managed=True (Glacier creates the bucket) or managed=False (an existing bucket).",
            )
        declared = None
        if schema is not None:
            from glacier.dag.schema import schema_from_declaration  # pydantic: only when declared

            declared = schema_from_declaration(schema, dataset=ref.id, mode=schema_mode)
        if declared is None and schema_mode != "freeze":
            raise DefinitionError(
                f"Dataset '{ref.id}' has schema_mode={schema_mode!r} but no schema=.",
                fix="declare its columns with schema={...} too, or drop schema_mode=.",
            )
        keys = partition_keys(ref.id, ref.path, partition_by, declared)
        return Bucket(
            self, ref.bucket, ref.path, config=config, managed=managed, schema=declared, partition_by=keys
        )

    def get_bucket_uri(self, bucket: str, path: str) -> str:
        if isinstance(self.config, LocalConfig):
            from pathlib import Path

            return str(Path(self.config.base_path) / bucket / path)
        return f"s3://{bucket}/{path}"

    def __repr__(self) -> str:
        return f"Provider(config={self.config!r})"
