"""Run a compiled pipeline locally: independent tasks concurrently on threads (Polars
releases the GIL; nothing is pickled), each through ``glacier.runtime.core``, with retries,
timeouts, the cache and the run history.

The scheduling loop: ``Frontier`` says which tasks may start, a thread pool runs them
(``glacier.runner.task``), and each completion comes back through one queue, so a run
costs time linear in its tasks and edges. With ``fuse`` (the default) ready fusable tasks
come out as groups, each run as one Polars query on one worker (``glacier.runner.fuse``,
docs/fusion.md); their outcomes come back as one list. A failing task stops only what is downstream of
it; tasks already running, and independent branches, finish. The run then raises
``ExecutionError`` naming the task (its ``__cause__`` is the task's own exception).

Ctrl-C or SIGTERM stops the run (``glacier.runner.interrupt``): running attempts are
cancelled, nothing more starts, nothing unfinished is published, the run is recorded
``interrupted`` with each task's state, and ``RunInterrupted`` is raised.
"""

from __future__ import annotations

import queue
import threading
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
from glacier.io.leftovers import discard_own_staging, one_listing_per_folder
from glacier.io.storage import describe_storage, resolve_storage
from glacier.io.user_cache import cache_dir
from glacier.runner.frontier import Frontier
from glacier.runner.fuse import FusedFrontier, Group, Unit
from glacier.runner.fused_group import run_group
from glacier.runner.history import History
from glacier.runner.history.batch import TaskBatch
from glacier.runner.interrupt import STOP_GRACE, RunInterrupted, RunStop, interrupted_message, interrupts
from glacier.runner.memory import run_gate
from glacier.runner.partitions import run_partition
from glacier.runner.result import RunResult, TaskRun
from glacier.runner.task import Reporter, RunContext, TaskExecution, skipped, task_record


def _execute(context: RunContext, task: TaskNode) -> TaskRun:
    return TaskExecution(context, task).run()  # built on the worker: it times from here


_POLL = 0.05  # how often the loop looks for a stop request while tasks run


class _Schedule:
    """Run every task once its upstream tasks succeeded; on a stop request, cancel what
    runs, start nothing more, and wait at most ``STOP_GRACE`` for the running tasks.

    What starts is a unit: one task, or with ``fuse`` a ``Group`` of tasks run as one Polars
    query (``glacier.runner.fuse``). A worker that finishes a unit schedules what became
    ready itself and runs the first of it at once (the rest go to other workers): a chain
    costs no hand-over between threads per unit. The main thread only starts the first
    units, watches for a stop request, and ends the run when nothing runs. The shared state
    is guarded by ``lock``."""

    def __init__(self, context: RunContext, max_workers: int, fuse: bool = True) -> None:
        self.context = context
        self.outcomes: dict[str, TaskRun] = {}
        self.memory = run_gate(context, self.outcomes)  # holds back what would not fit
        self.frontier: Frontier | FusedFrontier = (
            FusedFrontier(context, self.memory.estimate, self.memory.limit) if fuse else Frontier(context.dag)
        )
        self.running: set[str] = set()  # tasks of the units in flight
        self.units_running = 0  # units in flight (one worker each)
        self.left_running: frozenset[str] = frozenset()  # what still ran when the run ended
        self.lock = threading.Lock()
        # queue.Queue, not SimpleQueue: a signal arriving during SimpleQueue.get(timeout=)
        # left it blocked for good (CPython 3.11), so the stop was never seen.
        self.ended: queue.Queue[Future[None]] = queue.Queue()  # workers whose chain ended
        self.pool = ThreadPoolExecutor(max_workers, thread_name_prefix=f"glacier-{context.dag.name}")
        self.max_workers = max_workers

    def run(self) -> dict[str, TaskRun]:
        stop = self.context.stop
        try:
            deadline: float | None = None
            while True:
                with self.lock:
                    if not stop.requested:
                        for unit in self._ready():
                            self._submit(unit)
                    if not self.units_running:
                        break
                if stop.requested and deadline is None:
                    stop.stop()  # cancels every running attempt's work
                    deadline = time.monotonic() + STOP_GRACE
                if deadline is not None and time.monotonic() >= deadline:
                    break  # tasks still running cannot be stopped: the run ends without them
                try:
                    self.ended.get(timeout=_POLL).result()  # re-raises a bookkeeping error
                except queue.Empty:
                    continue
        finally:
            self.pool.shutdown(wait=not stop.requested, cancel_futures=True)
        with self.lock:  # a task that would not stop may still finish: a snapshot
            self.left_running = frozenset(self.running)
            return dict(self.outcomes)

    def _ready(self) -> list[Unit]:
        """The units to start now, marked running (the caller holds the lock)."""
        units = self.memory.admit(self.frontier.ready(), self.units_running, self.max_workers)
        for unit in units:
            self.running.update(unit.members if isinstance(unit, Group) else (unit,))
        self.units_running += len(units)
        return units

    def _submit(self, unit: Unit) -> None:
        future = self.pool.submit(self._chain, unit)
        future.add_done_callback(self.ended.put)

    def _chain(self, unit: Unit | None) -> None:
        """Run ``unit``, then whatever its completion made ready, until nothing is."""
        while unit is not None:
            if isinstance(unit, Group):
                runs = run_group(self.context, unit)
            else:
                runs = [_execute(self.context, self.context.dag.task(unit))]
            with self.lock:
                self.units_running -= 1
                self.memory.finished(unit)
                for run in runs:
                    self._completed(run)
                units = [] if self.context.stop.requested else self._ready()
                for other in units[1:]:
                    self._submit(other)
            unit = units[0] if units else None

    def _completed(self, run: TaskRun) -> None:
        self.running.discard(run.name)
        self.outcomes[run.name] = run
        if run.status == "failed":
            for name in self.frontier.failed(run.name):
                self.running.discard(name)  # a member of the failed task's group
                self.outcomes[name] = skipped(self.context, name)
        elif run.status != "interrupted":
            self.frontier.succeeded(run.name)


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
    fuse: bool = True,
) -> RunResult:
    """Run a compiled pipeline (its DAG, and its functions or their code references) here.

    ``fuse``: run each group of tasks that can run together as one Polars query
    (docs/fusion.md); False runs every task on its own.

    ``storage``: None -> the pipeline's LocalConfig, or ``./data`` when it is AwsConfig;
    ``"s3"`` -> the pipeline's AwsConfig; a LocalConfig/AwsConfig -> that. Raises
    ``ExecutionError`` naming the failing task (the result is on ``error.result``)."""
    dag = compiled.dag
    checked = run_partition(dag, partition)
    resolved = resolve_storage(dag.storage, storage)
    history = History(state_dir)
    stop = RunStop()
    try:
        with interrupts(stop):
            result = _run(
                compiled, resolved, history, max_workers, retry_delay, reporter, stop, checked, fuse
            )
    finally:
        history.close()
    if result.status == "interrupted":
        assert stop.signal is not None
        stopped = [t.name for t in result.tasks.values() if t.status in ("interrupted", "cancelled")]
        raise RunInterrupted(interrupted_message(dag.name, stopped), result, stop.signal)
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
        raise error from failed.exception
    return result


def _run(
    compiled: CompiledPipeline,
    storage: StorageConfig,
    history: History,
    max_workers: int | None,
    retry_delay: float,
    reporter: Reporter | None,
    stop: RunStop,
    partition: dict[str, str] | None = None,
    fuse: bool = True,
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
        content_ids=ContentIds(cache_dir(), storage_options(storage)),
        stop=stop,
        records=TaskBatch(history, run_id, dag.name),
        partition=partition,
    )
    schedule = _Schedule(context, max_workers or min(8, max(1, len(dag.tasks))), fuse)
    try:
        with one_listing_per_folder():  # leftovers: each folder listed once, not per write
            outcomes = schedule.run()
    finally:
        context.content_ids.close()
    result = RunResult(pipeline=dag.name, run_id=run_id, storage=label)
    result.seconds = round(time.perf_counter() - started, 6)
    if stop.requested:
        for name in schedule.left_running:  # would not stop in time: the process ends without them
            discard_own_staging(context.uri(dag.task(name).output))
        result.tasks = {t.name: outcomes.get(t.name) or _stopped(t, schedule, context) for t in dag.tasks}
        result.status = "interrupted"
        records = context.records.take()
        records += [task_record(t, None, None, {}, {}) for t in result.tasks.values() if t.status in _STOPPED]
        reason = stop.signal.name if stop.signal is not None else "a stop request"
        history.finish_run(run_id, "interrupted", result.seconds, f"interrupted by {reason}", tasks=records)
        return result
    result.tasks = {t.name: outcomes[t.name] for t in dag.tasks}
    for name, outcome in result.tasks.items():
        if outcome.status == "failed":
            # A Polars sink that failed mid-stream may close its staged file just after the
            # write discarded it: what this process staged for a failed task goes too.
            discard_own_staging(context.uri(dag.task(name).output))
    failed = result.failed_task
    result.status = "failed" if failed else "succeeded"
    error = failed.error if failed else None
    history.finish_run(run_id, result.status, result.seconds, error, tasks=context.records.take())
    return result


_STOPPED = ("interrupted", "cancelled")


def _stopped(task: TaskNode, schedule: _Schedule, context: RunContext) -> TaskRun:
    """The record of a task a stop caught running (``interrupted``) or before it started."""
    now = time.time()
    running = task.name in schedule.left_running
    return TaskRun(
        name=task.name,
        status="interrupted" if running else "cancelled",
        output=context.uri(task.output),
        error="stopped while running" if running else "not started: the run was stopped",
        started_at=now,
        finished_at=now,
    )
