"""Run a compiled pipeline locally: independent tasks concurrently on threads (Polars
releases the GIL; nothing is pickled), each through ``glacier.runtime.core``, with retries,
timeouts, the cache and the run history.

A failing task stops only what is downstream of it; tasks already running, and independent
branches, finish. The run then raises ``ExecutionError`` naming the task.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any, Protocol

from glacier.code import import_code_ref
from glacier.config import AwsConfig, LocalConfig, StorageConfig
from glacier.dag.model import PipelineDAG, TaskNode
from glacier.errors import ConfigError, ExecutionError, GlacierError, TaskTimeoutError
from glacier.formats import Format
from glacier.io import CancelToken, StorageOptions, StoredDataset, dataset_uri, stat_uri, storage_options
from glacier.io.content_id import ContentIds
from glacier.runner.code_fingerprint import task_fingerprint
from glacier.runner.history import History, TaskRecord
from glacier.runner.result import RunResult, TaskRun
from glacier.runtime import core
from glacier.runtime.event import TaskEvent, TaskResult


class Reporter(Protocol):
    """Progress hooks (called from worker threads)."""

    def task_started(self, pipeline: str, task: str) -> None: ...
    def task_retrying(self, pipeline: str, task: str, attempt: int, error: str) -> None: ...
    def task_finished(self, pipeline: str, run: TaskRun) -> None: ...


def resolve_storage(pipeline_storage: StorageConfig, storage: StorageConfig | str | None) -> StorageConfig:
    """``None``: the pipeline's storage if local, else ``./data`` on local disk;
    ``"s3"``: the pipeline's AwsConfig; a config object: that."""
    if storage is None:
        return (
            pipeline_storage if isinstance(pipeline_storage, LocalConfig) else LocalConfig(base_path="./data")
        )
    if storage == "s3":
        if not isinstance(pipeline_storage, AwsConfig):
            raise ConfigError(
                "storage='s3' was asked for, but the pipeline's provider uses LocalConfig.",
                fix="create the provider with Provider(config=AwsConfig(...)), or pass "
                "storage=AwsConfig(...) explicitly.",
            )
        return pipeline_storage
    if storage == "local":
        return resolve_storage(pipeline_storage, None)
    if isinstance(storage, AwsConfig | LocalConfig):
        return storage
    raise ConfigError(
        f"run(storage={storage!r}) is not a storage.",
        fix="pass None (local disk), 's3', LocalConfig(base_path=...) or AwsConfig(...).",
    )


def describe_storage(storage: StorageConfig) -> str:
    if isinstance(storage, LocalConfig):
        return f"local:{Path(storage.base_path).resolve()}"
    return f"s3:{storage.endpoint_url or storage.region}"


class PipelineRun:
    """One execution of one pipeline (build with ``run_pipeline``)."""

    def __init__(
        self,
        dag: PipelineDAG,
        functions: Mapping[str, Callable[..., Any]],
        storage: StorageConfig,
        history: History,
        *,
        max_workers: int | None,
        retry_delay: float,
        reporter: Reporter | None,
    ) -> None:
        self.dag = dag
        self.functions = functions
        self.storage = storage
        self.options: StorageOptions | None = storage_options(storage)
        self.history = history
        self.content_ids = ContentIds(history.state_dir, self.options)
        self.max_workers = max_workers or min(8, max(1, len(dag.tasks)))
        self.retry_delay = retry_delay
        self.reporter = reporter

    # -- scheduling ------------------------------------------------------------------------
    def run(self) -> RunResult:
        started = time.perf_counter()
        run_id = self.history.start_run(self.dag.name, describe_storage(self.storage))
        result = RunResult(pipeline=self.dag.name, run_id=run_id, storage=describe_storage(self.storage))
        deps = {t.name: set(self.dag.upstream_tasks(t.name)) for t in self.dag.tasks}
        waiting = [t.name for t in self.dag.tasks]  # topological order
        done: dict[str, TaskRun] = {}
        blocked: set[str] = set()
        running: dict[Future[TaskRun], str] = {}
        with ThreadPoolExecutor(self.max_workers, thread_name_prefix=f"glacier-{self.dag.name}") as pool:
            while waiting or running:
                for name in list(waiting):
                    if deps[name] & blocked:
                        waiting.remove(name)
                        blocked.add(name)
                        done[name] = self._skipped(run_id, name)
                    elif all(d in done for d in deps[name]):
                        waiting.remove(name)
                        running[pool.submit(self._run_task, run_id, self.dag.task(name))] = name
                if not running:
                    continue
                finished, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished:
                    name = running.pop(future)
                    task_run = future.result()
                    done[name] = task_run
                    if task_run.status == "failed":
                        blocked.add(name)
        self.content_ids.close()
        result.tasks = {t.name: done[t.name] for t in self.dag.tasks}
        result.seconds = round(time.perf_counter() - started, 6)
        failed = result.failed_task
        result.status = "failed" if failed else "succeeded"
        self.history.finish_run(run_id, result.status, result.seconds, failed.error if failed else None)
        return result

    def _skipped(self, run_id: str, name: str) -> TaskRun:
        task = self.dag.task(name)
        upstream = ", ".join(self.dag.upstream_tasks(name))
        run = TaskRun(
            name=name,
            status="skipped",
            output=self._uri(task.output),
            error=f"not run: upstream task(s) {upstream} did not succeed",
            started_at=time.time(),
            finished_at=time.time(),
        )
        self._record(run_id, run, None, None, {}, {})
        if self.reporter:
            self.reporter.task_finished(self.dag.name, run)
        return run

    # -- one task --------------------------------------------------------------------------
    def _uri(self, dataset_id: str) -> str:
        return dataset_uri(self.dag.dataset(dataset_id), self.storage)

    def _event(self, task: TaskNode, run_id: str) -> TaskEvent:
        return TaskEvent.for_task(self.dag, task, lambda ds: dataset_uri(ds, self.storage), run_id)

    def _run_task(self, run_id: str, task: TaskNode) -> TaskRun:
        started_wall = time.time()
        started = time.perf_counter()
        if self.reporter:
            self.reporter.task_started(self.dag.name, task.name)
        event = self._event(task, run_id)
        input_bytes: dict[str, int] = {}
        fingerprints: dict[str, str] = {}
        attempts = 0
        key: str | None = None
        try:
            for param, location in event.inputs.items():
                stored = stat_uri(location.uri, location.format, self.options)
                dataset_id = task.inputs[param]
                if stored is None:
                    raise ExecutionError(
                        f"Task '{task.name}' input '{param}' (dataset '{dataset_id}') does not exist at "
                        f"'{location.uri}'.",
                        task=task.name,
                        fix="create the source data there, or run the pipeline that writes it first.",
                    )
                input_bytes[dataset_id] = stored.bytes
                fingerprints[dataset_id] = self._identity(task, location.uri, location.format, stored)
            func = self._function(task)
            reach = helpers_hash(func, task.name) if task.cache else ""
            key = None if reach is None else cache_key(task, event, fingerprints, reach)
            if task.cache and key is not None:
                hit = self._cache_hit(task, event, key)
                if hit is not None:
                    run = TaskRun(
                        name=task.name,
                        status="cached",
                        output=event.output.uri,
                        seconds=round(time.perf_counter() - started, 6),
                        rows=hit.rows,
                        bytes=hit.output_bytes,
                        started_at=started_wall,
                        finished_at=time.time(),
                    )
                    self._record(run_id, run, key, hit.output_fingerprint, input_bytes, fingerprints)
                    return self._finish(run)
            while True:
                attempts += 1
                try:
                    outcome = self._attempt(task, event, func)
                    break
                except Exception as exc:
                    if attempts > task.retries:
                        raise
                    if self.reporter:
                        self.reporter.task_retrying(self.dag.name, task.name, attempts, str(exc))
                    time.sleep(self.retry_delay * 2 ** (attempts - 1))
            stored_out = stat_uri(event.output.uri, event.output.format, self.options)
            run = TaskRun(
                name=task.name,
                status="succeeded",
                output=event.output.uri,
                seconds=round(time.perf_counter() - started, 6),
                rows=outcome.rows,
                bytes=outcome.bytes,
                attempts=attempts,
                started_at=started_wall,
                finished_at=time.time(),
            )
            out_fp = (
                self._identity(task, event.output.uri, event.output.format, stored_out)
                if stored_out
                else None
            )
            self._record(run_id, run, key, out_fp, input_bytes, fingerprints)
            return self._finish(run)
        except Exception as exc:
            message = exc.problem if isinstance(exc, GlacierError) else core.one_line(exc)
            if attempts > 1:
                message = f"{message} (after {attempts} attempts)"
            run = TaskRun(
                name=task.name,
                status="failed",
                output=event.output.uri,
                seconds=round(time.perf_counter() - started, 6),
                attempts=attempts,
                error=message,
                fix=exc.fix if isinstance(exc, GlacierError) else None,
                started_at=started_wall,
                finished_at=time.time(),
            )
            self._record(run_id, run, key, None, input_bytes, fingerprints)
            return self._finish(run)

    def _finish(self, run: TaskRun) -> TaskRun:
        if self.reporter:
            self.reporter.task_finished(self.dag.name, run)
        return run

    def _cache_hit(self, task: TaskNode, event: TaskEvent, key: str) -> TaskRecord | None:
        last = self.history.last_success(self.dag.name, task.name)
        if last is None or last.cache_key != key:
            return None
        stored = stat_uri(event.output.uri, event.output.format, self.options)
        output = self._identity(task, event.output.uri, event.output.format, stored) if stored else None
        if output is None or output != last.output_fingerprint:
            return None  # the output is gone or was changed by someone else
        return last

    def _identity(self, task: TaskNode, uri: str, fmt: Format, stored: StoredDataset) -> str:
        """What the cache compares: content identity for cached tasks, stat otherwise."""
        return self.content_ids.identify(uri, fmt, stored) if task.cache else stored.fingerprint

    def _function(self, task: TaskNode) -> Callable[..., Any]:
        func = self.functions.get(task.name)
        if func is not None:
            return func
        return import_code_ref(task.code_ref, task.name)

    def _attempt(self, task: TaskNode, event: TaskEvent, func: Callable[..., Any]) -> TaskResult:
        def execute(cancel: CancelToken | None) -> TaskResult:
            if task.dataframe_api == "pyspark":
                from glacier.runner.spark import execute_spark_task

                return execute_spark_task(event, func, self.options, cancel=cancel)
            return core.execute_task(event, func, self.options, cancel=cancel)

        if task.timeout is None:
            return execute(None)
        # A thread cannot be killed: the attempt runs in a daemon thread; past the timeout we
        # stop waiting and cancel its write, so nothing it computes is ever published.
        cancel = CancelToken()
        box: dict[str, Any] = {}
        finished = threading.Event()

        def target() -> None:
            try:
                box["result"] = execute(cancel)
            except BaseException as exc:
                box["error"] = exc
            finally:
                finished.set()

        threading.Thread(target=target, name=f"glacier-task-{task.name}", daemon=True).start()
        if not finished.wait(task.timeout):
            cancel.cancel()
            raise TaskTimeoutError(
                f"Task '{task.name}' timed out after {task.timeout:g} s.",
                task=task.name,
                fix=f"raise timeout= on '{task.name}' or make it faster.",
            )
        if "error" in box:
            raise box["error"]
        result: TaskResult = box["result"]
        return result

    def _record(
        self,
        run_id: str,
        run: TaskRun,
        key: str | None,
        output_fingerprint: str | None,
        input_bytes: dict[str, int],
        fingerprints: dict[str, str],
    ) -> None:
        self.history.record_task(
            run_id,
            self.dag.name,
            TaskRecord(
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
            ),
        )


def helpers_hash(func: Callable[..., Any], task: str) -> str | None:
    """The fingerprint of everything ``func`` can reach (``glacier.runner.code_fingerprint``);
    None, with a ``CacheDisabledWarning`` naming the task and the value, when it reaches a
    value with no stable content: the cache is then off for that task."""
    return task_fingerprint(func, task)


def cache_key(task: TaskNode, event: TaskEvent, fingerprints: dict[str, str], helpers: str = "") -> str:
    """Changes when the task's code (or a helper it calls), config, inputs (content or
    location) or output change."""
    payload = {
        "code": task.code_hash,
        "helpers": helpers,
        "config": task.config,
        "api": task.dataframe_api,
        "inputs": {
            param: [loc.uri, loc.format.value, fingerprints[task.inputs[param]]]
            for param, loc in sorted(event.inputs.items())
        },
        "output": [event.output.uri, event.output.format.value],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def run_pipeline(
    compiled: Any,
    *,
    storage: StorageConfig | str | None = None,
    state_dir: str | Path | None = None,
    max_workers: int | None = None,
    retry_delay: float = 1.0,
    reporter: Reporter | None = None,
    raise_on_failure: bool = True,
) -> RunResult:
    """Run a ``CompiledPipeline`` (its ``dag`` and ``functions``) on this machine.

    ``storage``: None -> the pipeline's LocalConfig, or ``./data`` when it is AwsConfig;
    ``"s3"`` -> the pipeline's AwsConfig; a LocalConfig/AwsConfig -> that. Raises
    ``ExecutionError`` naming the failing task (the result is on ``error.result``)."""
    dag: PipelineDAG = compiled.dag
    functions: Mapping[str, Callable[..., Any]] = getattr(compiled, "functions", {}) or {}
    resolved = resolve_storage(dag.storage, storage)
    history = History(state_dir)
    try:
        result = PipelineRun(
            dag,
            functions,
            resolved,
            history,
            max_workers=max_workers,
            retry_delay=retry_delay,
            reporter=reporter,
        ).run()
    finally:
        history.close()
    failed = result.failed_task
    if failed is not None and raise_on_failure:
        error = ExecutionError(
            f"Pipeline '{dag.name}' failed in task '{failed.name}': {failed.error}",
            task=failed.name,
            fix=(failed.fix.rstrip(". ") if failed.fix else f"fix task '{failed.name}'")
            + "; then run again (earlier outputs are intact"
            + ("; cached tasks will be skipped)." if any(t.cache for t in dag.tasks) else ")."),
        )
        error.result = result  # type: ignore[attr-defined]
        raise error
    return result
