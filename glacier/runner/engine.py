"""Run a compiled pipeline locally: independent tasks concurrently on threads (Polars
releases the GIL; nothing is pickled), each through ``glacier.runtime.core``, with retries,
timeouts, the cache and the run history.

The scheduling loop: ``Frontier`` says which tasks may start, a thread pool runs them
(``glacier.runner.task``), and each completion comes back through one queue, so a run
costs time linear in its tasks and edges. A failing task stops only what is downstream of
it; tasks already running, and independent branches, finish. The run then raises
``ExecutionError`` naming the task.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from glacier.config import StorageConfig
from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import TaskNode
from glacier.errors import ExecutionError
from glacier.io import storage_options
from glacier.io.content_id import ContentIds
from glacier.io.storage import describe_storage, resolve_storage
from glacier.runner.frontier import Frontier
from glacier.runner.history import History
from glacier.runner.partitions import run_partition
from glacier.runner.result import RunResult, TaskRun
from glacier.runner.task import Reporter, RunContext, TaskExecution, skipped


def _execute(context: RunContext, task: TaskNode) -> TaskRun:
    return TaskExecution(context, task).run()  # built on the worker: it times from here


def _schedule(context: RunContext, max_workers: int) -> dict[str, TaskRun]:
    """Run every task once its upstream tasks succeeded; returns each task's outcome."""
    dag = context.dag
    frontier = Frontier(dag)
    outcomes: dict[str, TaskRun] = {}
    completed: queue.SimpleQueue[Future[TaskRun]] = queue.SimpleQueue()
    running = 0
    with ThreadPoolExecutor(max_workers, thread_name_prefix=f"glacier-{dag.name}") as pool:
        while True:
            for name in frontier.ready():
                future = pool.submit(_execute, context, dag.task(name))
                future.add_done_callback(completed.put)
                running += 1
            if not running:
                break
            run = completed.get().result()
            running -= 1
            outcomes[run.name] = run
            if run.status == "failed":
                for name in frontier.failed(run.name):
                    outcomes[name] = skipped(context, name)
            else:
                frontier.succeeded(run.name)
    return outcomes


def run_pipeline(
    compiled: CompiledPipeline,
    *,
    storage: StorageConfig | str | None = None,
    state_dir: str | Path | None = None,
    max_workers: int | None = None,
    retry_delay: float = 1.0,
    reporter: Reporter | None = None,
    raise_on_failure: bool = True,
    partition: Mapping[str, str] | None = None,
) -> RunResult:
    """Run a compiled pipeline (its DAG, and its functions or their code references) here.

    ``storage``: None -> the pipeline's LocalConfig, or ``./data`` when it is AwsConfig;
    ``"s3"`` -> the pipeline's AwsConfig; a LocalConfig/AwsConfig -> that. Raises
    ``ExecutionError`` naming the failing task (the result is on ``error.result``)."""
    dag = compiled.dag
    checked = run_partition(dag, partition)
    resolved = resolve_storage(dag.storage, storage)
    history = History(state_dir)
    try:
        result = _run(compiled, resolved, history, max_workers, retry_delay, reporter, checked)
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


def _run(
    compiled: CompiledPipeline,
    storage: StorageConfig,
    history: History,
    max_workers: int | None,
    retry_delay: float,
    reporter: Reporter | None,
    partition: dict[str, str] | None = None,
) -> RunResult:
    dag = compiled.dag
    started = time.perf_counter()
    label = describe_storage(storage)
    run_id = history.start_run(dag.name, label)
    context = RunContext(
        dag=dag,
        functions=compiled.functions,
        storage=storage,
        options=storage_options(storage),
        history=history,
        run_id=run_id,
        retry_delay=retry_delay,
        reporter=reporter,
        content_ids=ContentIds(history.state_dir, storage_options(storage)),
        partition=partition,
    )
    try:
        outcomes = _schedule(context, max_workers or min(8, max(1, len(dag.tasks))))
    finally:
        context.content_ids.close()
    result = RunResult(pipeline=dag.name, run_id=run_id, storage=label)
    result.tasks = {t.name: outcomes[t.name] for t in dag.tasks}
    result.seconds = round(time.perf_counter() - started, 6)
    failed = result.failed_task
    result.status = "failed" if failed else "succeeded"
    history.finish_run(run_id, result.status, result.seconds, failed.error if failed else None)
    return result
