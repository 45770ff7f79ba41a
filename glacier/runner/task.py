"""One task of one local run: check its inputs exist, consult the cache, make its attempts
(retries with backoff), and record the outcome in the run history."""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from glacier.code import import_code_ref
from glacier.config import StorageConfig
from glacier.dag.model import PipelineDAG, TaskNode
from glacier.dag.partitions import partition_label
from glacier.errors import ExecutionError, GlacierError
from glacier.formats import Format
from glacier.io import StorageOptions, StoredDataset, dataset_uri, is_s3, scan_uri, stat_uri
from glacier.io.content_id import ContentIds
from glacier.io.parquet_footer import parquet_rows
from glacier.runner.attempt import AttemptTimedOut, attempt
from glacier.runner.cache import cache_hit, cache_key, helpers_hash
from glacier.runner.failure import retryable, root_cause, traceback_text, user_location
from glacier.runner.history import History, TaskRecord
from glacier.runner.history.batch import TaskBatch
from glacier.runner.interrupt import RunStop
from glacier.runner.result import TaskRun, TaskStatus
from glacier.runtime import core
from glacier.runtime.event import TaskEvent, TaskResult
from glacier.runtime.partition import in_partition


class Reporter(Protocol):
    """Progress hooks (called from worker threads)."""

    def task_started(self, pipeline: str, task: str) -> None: ...
    def task_retrying(self, pipeline: str, task: str, attempt: int, error: str) -> None: ...
    def task_finished(self, pipeline: str, run: TaskRun) -> None: ...


@dataclass(frozen=True)
class RunContext:
    """What every task of one run shares."""

    dag: PipelineDAG
    functions: Mapping[str, Callable[..., Any]]
    storage: StorageConfig
    options: StorageOptions | None
    history: History
    run_id: str
    retry_delay: float
    reporter: Reporter | None
    content_ids: ContentIds
    stop: RunStop
    records: TaskBatch  # where finished tasks' records go (written in batches)
    partition: dict[str, str] | None = None  # the one partition this run processes

    def uri(self, dataset_id: str) -> str:
        return dataset_uri(self.dag.dataset(dataset_id), self.storage)

    def event(self, task: TaskNode) -> TaskEvent:
        event = TaskEvent.for_task(
            self.dag, task, lambda ds: dataset_uri(ds, self.storage), self.run_id, self.partition
        )
        return in_partition(event)  # stats and cache keys are then per partition

    def function(self, task: TaskNode) -> Callable[..., Any]:
        func = self.functions.get(task.name)
        return func if func is not None else import_code_ref(task.code_ref, task.name)

    def identity(self, task: TaskNode, uri: str, fmt: Format, stored: StoredDataset) -> str:
        """What the cache compares: content identity for cached tasks, stat otherwise."""
        return self.content_ids.identify(uri, fmt, stored) if task.cache else stored.fingerprint

    def finished(self, run: TaskRun, record: TaskRecord) -> TaskRun:
        record = dataclasses.replace(record, partition=partition_label(self.partition))
        if run.status == "interrupted":  # the engine records it with the interrupted run
            return run
        self.records.add(record)
        if self.reporter:
            self.reporter.task_finished(self.dag.name, run)
        return run


class TaskExecution:
    """Runs one task once it is ready; ``run()`` never raises: a failure is a failed TaskRun."""

    def __init__(self, context: RunContext, task: TaskNode) -> None:
        self.context = context
        self.task = task
        self.event = context.event(task)
        self.started_wall = time.time()
        self.started = time.perf_counter()
        self.input_bytes: dict[str, int] = {}
        self.fingerprints: dict[str, str] = {}
        self.attempts = 0
        self.key: str | None = None
        self.func: Callable[..., Any] | None = None

    def run(self) -> TaskRun:
        context, task = self.context, self.task
        if context.reporter:
            context.reporter.task_started(context.dag.name, task.name)
        try:
            cached = self.from_cache()
            if cached is not None:
                return cached
            assert self.func is not None
            self.check_readable(self.event.inputs)
            outcome = self._attempts(self.func)
            stored = stat_uri(self.event.output.uri, self.event.output.format, context.options)
            run = self._task_run(
                "succeeded",
                rows=outcome.rows,
                bytes=outcome.bytes,
                attempts=self.attempts,
                schema_added=outcome.schema_added,
                schema_gained=self._gained(outcome.schema_added),
            )
            output = self.event.output
            fingerprint = context.identity(task, output.uri, output.format, stored) if stored else None
            return self._finish(run, fingerprint)
        except Exception as exc:
            if context.stop.stopped:
                return self._task_run("interrupted", attempts=self.attempts, error="interrupted")
            return self._finish(self._failed(exc), None)

    def from_cache(self) -> TaskRun | None:
        """Stat the inputs, import the function and make the cache key; on a cache hit, the
        finished ``cached`` run, else None (the task then reads its inputs and runs)."""
        context, task = self.context, self.task
        self.stat_inputs()
        func = self.func = context.function(task)
        reach = helpers_hash(func, task.name) if task.cache else ""
        self.key = None if reach is None else cache_key(task, self.event, self.fingerprints, reach)
        if not task.cache or self.key is None:
            return None
        identify = functools.partial(context.identity, task)
        hit = cache_hit(
            context.history, context.dag.name, task, self.event, self.key, context.options, identify
        )
        if hit is None:
            return None
        cached = self._task_run("cached", rows=hit.rows, bytes=hit.output_bytes)
        return self._finish(cached, hit.output_fingerprint)

    def _gained(self, added: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        """The undeclared ('evolve') columns the task's previous successful run did not meet."""
        if not added:
            return {}
        context = self.context
        previous = context.history.task_history(context.dag.name, self.task.name, 1, ("succeeded",))
        seen = previous[-1].schema_added if previous else {}
        gained = {
            uri: {c: t for c, t in columns.items() if c not in seen.get(uri, {})}
            for uri, columns in added.items()
        }
        return {uri: columns for uri, columns in gained.items() if columns}

    def stat_inputs(self, params: Iterable[str] | None = None) -> None:
        """Every input (or those of ``params``) must exist; its size and fingerprint feed the
        cache key and history."""
        for param in self.event.inputs if params is None else params:
            location = self.event.inputs[param]
            stored = stat_uri(location.uri, location.format, self.context.options)
            dataset_id = self.task.inputs[param]
            if stored is None:
                raise ExecutionError(
                    f"Task '{self.task.name}' input '{param}' (dataset '{dataset_id}') does not exist at "
                    f"'{location.uri}'.",
                    task=self.task.name,
                    fix="create the source data there, or run the pipeline that writes it first.",
                )
            if location.format is Format.PARQUET_DIR and stored.files == 0:
                raise ExecutionError(
                    f"Task '{self.task.name}' input '{param}' ({location.uri}) is an empty directory.",
                    task=self.task.name,
                    fix=f"put the data of dataset '{dataset_id}' in it, or run the pipeline that writes it.",
                )
            self.input_bytes[dataset_id] = stored.bytes
            self.fingerprints[dataset_id] = self.context.identity(
                self.task, location.uri, location.format, stored
            )

    def check_readable(self, params: Iterable[str]) -> None:
        """Read these inputs' schemas (a parquet footer, a CSV header) before the task runs, so
        a corrupt or unreadable input is named as the input, not found later while writing the
        output. A cache hit skips this: its inputs have the content identities of the run that
        read them."""
        for param in params:
            location = self.event.inputs[param]
            self._check_readable(param, location.uri, location.format)

    def _check_readable(self, param: str, uri: str, fmt: Format) -> None:
        """A local parquet file whose footer reads (magic, length, the Thrift structure up to
        its row count, ``parquet_footer``) costs no Polars query (~0.15 ms); any other input is
        asked of Polars, whose error is the one reported."""
        if fmt is Format.PARQUET and not is_s3(uri) and parquet_rows(uri) is not None:
            return
        try:
            scan_uri(uri, fmt, self.context.options).collect_schema()
        except Exception as exc:
            raise ExecutionError(
                f"Task '{self.task.name}': input '{param}' ({uri}) could not be read: {core.one_line(exc)}",
                task=self.task.name,
                fix=f"replace '{uri}' with a valid {fmt.value} dataset, or run the pipeline that writes it.",
            ) from exc

    def _attempts(self, func: Callable[..., Any]) -> TaskResult:
        """Attempt until success or ``retries`` are spent, backing off exponentially."""
        context, task = self.context, self.task
        while True:
            self.attempts += 1
            token = context.stop.token()
            try:
                return attempt(task, self.event, func, context.options, token)
            except Exception as exc:
                if self.attempts > task.retries or not retryable(task, exc) or context.stop.stopped:
                    raise
                if isinstance(exc, AttemptTimedOut) and not exc.stopped:
                    raise  # it still runs: a retry would overlap it
                if context.reporter:
                    context.reporter.task_retrying(context.dag.name, task.name, self.attempts, str(exc))
                time.sleep(context.retry_delay * 2 ** (self.attempts - 1))
            finally:
                context.stop.release(token)

    def _failed(self, exc: Exception) -> TaskRun:
        message = exc.problem if isinstance(exc, GlacierError) else core.one_line(exc)
        where = (
            user_location(exc, self.func)
            if root_cause(exc) is not exc or not isinstance(exc, GlacierError)
            else None
        )
        if where is not None:
            at = "raised by the query of the task defined at" if where.defined else "at"
            message = f"{message} ({at} {where})"
        if self.attempts > 1:
            message = f"{message} (after {self.attempts} attempts)"
        fix = exc.fix if isinstance(exc, GlacierError) else None
        return self._task_run(
            "failed",
            attempts=self.attempts,
            error=message,
            fix=fix,
            traceback=traceback_text(exc),
            exception=exc,
        )

    def _task_run(self, status: TaskStatus, **figures: Any) -> TaskRun:
        return TaskRun(
            name=self.task.name,
            status=status,
            output=self.event.output.uri,
            seconds=round(time.perf_counter() - self.started, 6),
            started_at=self.started_wall,
            finished_at=time.time(),
            **figures,
        )

    def _finish(self, run: TaskRun, output_fingerprint: str | None) -> TaskRun:
        return self.context.finished(
            run, task_record(run, self.key, output_fingerprint, self.input_bytes, self.fingerprints)
        )


def skipped(context: RunContext, name: str) -> TaskRun:
    """The record of a task that did not run because a task upstream of it failed."""
    upstream = ", ".join(context.dag.upstream_tasks(name))
    now = time.time()
    run = TaskRun(
        name=name,
        status="skipped",
        output=context.uri(context.dag.task(name).output),
        error=f"not run: upstream task(s) {upstream} did not succeed",
        started_at=now,
        finished_at=now,
    )
    return context.finished(run, task_record(run, None, None, {}, {}))


def task_record(
    run: TaskRun,
    key: str | None,
    output_fingerprint: str | None,
    input_bytes: dict[str, int],
    fingerprints: dict[str, str],
) -> TaskRecord:
    return TaskRecord(
        task=run.name,
        status=run.status,
        attempts=run.attempts,
        started_at=run.started_at,
        seconds=run.seconds,
        rows=run.rows,
        output_bytes=run.bytes,
        input_bytes=input_bytes,
        output=run.output,
        cache_key=key,
        output_fingerprint=output_fingerprint,
        input_fingerprints=fingerprints,
        error=run.error,
        traceback=run.traceback,
        fix=run.fix,
        schema_added=run.schema_added,
    )
