"""Tasks: plain functions that a decorator binds to an executor.

The decorator only records (Hamilton's "decorators only record"): it checks the options and
the function's parameters, which is cheap, and keeps them. The work that reads the
function's source (its hash; whether it is a pyspark task) and builds the pydantic
``TaskDefinition`` happens on first access of ``task.definition``, which compiling a
pipeline does. So a module of many tasks imports cheaply: a Lambda cold start imports the
user's module but never compiles it.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from glacier.code import dataframe_api, source_hash
from glacier.errors import DefinitionError

if TYPE_CHECKING:
    from glacier.dag.model import ExecutorKind, ExecutorSpec, TaskDefinition

_TASK_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")


class TaskExecutor(Protocol):
    """Where a task runs, as a task sees it (``provider.local()``, ``.serverless()``, ...)."""

    @property
    def type(self) -> ExecutorKind: ...

    @property
    def spec(self) -> ExecutorSpec: ...


class Task:
    """A function bound to an executor. Calling it calls the function unchanged."""

    func: Callable[..., Any]
    # Copied from the function by functools.update_wrapper: a task looks like its function.
    __name__: str
    __wrapped__: Callable[..., Any]

    def __init__(
        self,
        func: Callable[..., Any],
        executor: TaskExecutor,
        name: str,
        timeout: float | None = None,
        retries: int = 0,
        cache: bool = False,
        config: dict[str, Any] | None = None,
        retry_on: tuple[type[BaseException], ...] = (),
    ) -> None:
        if isinstance(func, Task):
            func = func.func
        if not callable(func):
            raise DefinitionError(
                f"@task was applied to {func!r}, which is not callable.",
                fix="decorate a function: @executor.task() above `def my_task(df): ...`.",
            )
        _check_options(name, retries, timeout, cache, config or {})
        self.func = func
        self.executor = executor
        self.name = name
        self.timeout = timeout
        self.retries = retries
        self.cache = cache
        self.config = dict(config or {})
        self.retry_on = _exception_names(name, retry_on)
        # The parameters decide how sources bind (at .transform()), so they are read now;
        # a bad parameter list is the decorator's error, as for a bad option.
        self.required_params, self.optional_params = _parameters(name, inspect.signature(func))
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Task(name='{self.name}', executor={self.executor.type})"

    @property
    def signature(self) -> inspect.Signature:
        """The function's signature (computed on demand: large pipelines hold many tasks)."""
        return inspect.signature(self.func)

    @property
    def params(self) -> tuple[str, ...]:
        return self.required_params + self.optional_params

    @functools.cached_property
    def definition(self) -> TaskDefinition:
        """The task as DAG data: built on first access (compiling a pipeline), once. Every
        value was checked when the task was declared, so the node is not validated again
        (``PipelineDAG.assemble``); values take the types validation would give them."""
        from glacier.dag.model import TaskDefinition

        return TaskDefinition.model_construct(
            name=self.name,
            executor=self.executor.spec,
            retries=self.retries,
            timeout=None if self.timeout is None else float(self.timeout),
            cache=self.cache,
            config=json.loads(json.dumps(self.config)),  # plain JSON values, copied
            retry_on=self.retry_on,
            code_ref=f"{self.func.__module__}:{self.func.__qualname__}",
            code_hash=source_hash(self.func),
            dataframe_api=dataframe_api(self.func),
            required_params=self.required_params,
            optional_params=self.optional_params,
        )


def _exception_names(name: str, retry_on: Any) -> tuple[str, ...]:
    """``retry_on`` as DAG data: the qualified names of the exception classes."""
    classes = retry_on if isinstance(retry_on, tuple) else (retry_on,)
    if not all(isinstance(c, type) and issubclass(c, BaseException) for c in classes):
        raise DefinitionError(
            f"Task '{name}' has retry_on={retry_on!r}.",
            fix="pass a tuple of exception classes, e.g. retry_on=(TimeoutError, OSError).",
        )
    return tuple(f"{c.__module__}.{c.__qualname__}" for c in classes)


def _check_options(name: Any, retries: Any, timeout: Any, cache: Any, config: dict[str, Any]) -> None:
    if name == "<lambda>":
        raise DefinitionError(
            "A lambda was made a task without a name ('<lambda>' cannot name cloud resources).",
            fix="name it: executor.task(name='clean')(lambda df: ...), or use a def.",
        )
    if not isinstance(name, str) or not _TASK_NAME.match(name):
        raise DefinitionError(
            f"Task name {name!r} cannot be used to name cloud resources.",
            fix="use 1-64 letters, digits, '_' or '-', starting with a letter (task(name=...)).",
        )
    if not isinstance(retries, int) or isinstance(retries, bool) or retries < 0:
        raise DefinitionError(
            f"Task '{name}' has retries={retries!r}.",
            fix="pass a whole number of retries, 0 or more.",
        )
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, int | float)
        or not math.isfinite(timeout)  # JSON has no infinity: the DAG would carry no timeout
        or timeout <= 0
    ):
        raise DefinitionError(
            f"Task '{name}' has timeout={timeout!r}.",
            fix="pass a timeout in seconds greater than 0, or leave it unset.",
        )
    if not isinstance(cache, bool):
        raise DefinitionError(f"Task '{name}' has cache={cache!r}.", fix="pass cache=True or False.")
    for key, value in config.items():
        problem = _not_plain_data(value, key)
        if problem is not None:
            raise DefinitionError(
                f"Task '{name}' has a config value that is not plain data: {problem}.",
                fix="pass only strings, numbers, booleans, None, lists and dicts with string keys "
                "as task config.",
            )


def _not_plain_data(value: Any, at: str) -> str | None:
    """Where and why ``value`` is not plain JSON data, or None. The DAG keeps task config as
    JSON, which the cloud side reads back: a tuple would come back a list, NaN or infinity
    as null, a number key as a string, so each is refused here instead."""
    if value is None or isinstance(value, bool | int | str):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else f"{at} is {value!r} (JSON has no NaN or infinity)"
    if isinstance(value, list):
        for index, item in enumerate(value):
            problem = _not_plain_data(item, f"{at}[{index}]")
            if problem is not None:
                return problem
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                return f"{at} has the key {key!r} ({type(key).__name__}; keys must be strings)"
            problem = _not_plain_data(item, f"{at}[{key!r}]")
            if problem is not None:
                return problem
        return None
    hint = " (use a list)" if isinstance(value, tuple) else ""
    return f"{at} is of type {type(value).__name__}{hint}"


def _parameters(name: str, signature: inspect.Signature) -> tuple[tuple[str, ...], tuple[str, ...]]:
    required: list[str] = []
    optional: list[str] = []
    for param in signature.parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            if param.kind is param.VAR_POSITIONAL:
                shown = f"*{param.name}"
            elif param.kind is param.VAR_KEYWORD:
                shown = f"**{param.name}"
            else:
                shown = f"{param.name}, /"
            raise DefinitionError(
                f"Task '{name}' has parameter '{shown}', which cannot receive a named source.",
                fix="give the task one ordinary parameter per source, e.g. def join(sales, customers).",
            )
        (optional if param.default is not param.empty else required).append(param.name)
    if not required:
        raise DefinitionError(
            f"Task '{name}' takes no parameters, so it cannot read a source.",
            fix="add a parameter for the data it reads, e.g. def clean(df).",
        )
    return tuple(required), tuple(optional)
