"""Run one fused group (``glacier.runner.fuse``) as a single Polars query.

1. Cache: each member whose inputs are all published already is checked against the cache
   first, exactly as a lone task is (stat, content identity, key); a hit is recorded
   ``cached`` and computes nothing, and members below it read its published file. A member
   that reads a member that runs is computed with the group: its cache key needs that
   input's content, which exists only once the group has run (no early cut-off inside a
   group; ``--no-fuse`` keeps it). Its key is computed and recorded after the publish.
2. Plan: each running member's function is called on frames: scans of published inputs
   (schema-checked as always) or the frame its upstream member returned (checked against
   the same declaration); its result is checked against its output's declared schema, and
   ``Dataset.begin_write`` stages the output and gives a lazy sink. A result other members
   read is marked ``.cache()``: Polars' own common-subplan elimination does not nest (a
   shared scan under a shared result was computed twice), the explicit cache makes the
   result computed once for its sink and its readers.
3. One ``pl.collect_all`` runs every sink; Polars' common-subplan elimination computes a
   shared scan or sub-plan once. Then the outputs are published one by one, in order.
4. Any failure before that (a function raising, a schema mismatch, the query failing)
   discards every staged output and re-runs the members not yet finished task by task
   (``TaskExecution``, with their retries): the failing task is named as without fusion,
   earlier members' outputs are published, and members below the failure are skipped.

Figures: rows and bytes are each output's own (from its staged file and its stat). Seconds:
a member's own preparation (stat, cache check, building its plan) plus an equal share of the
group's query-and-publish wall time, so a group's members add up to its wall time. A fused
member that succeeded made one attempt; after a group failure, the attempts counted are the
task's own re-run's.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import polars as pl

from glacier.dag.model import TaskNode
from glacier.io import Dataset
from glacier.io.cancel import CancelToken
from glacier.io.datasets.base import PendingWrite
from glacier.runner.cache import cache_key, helpers_hash
from glacier.runner.fuse import Group
from glacier.runner.result import TaskRun
from glacier.runner.task import RunContext, TaskExecution
from glacier.runtime import core
from glacier.runtime.polars_engine import dataset_at
from glacier.runtime.schema_check import check_input, check_output


@dataclass
class _Member:
    """A member that runs in the group's query."""

    execution: TaskExecution
    inside: dict[str, str]  # parameter -> the member whose frame it reads
    prepared: float = 0.0  # seconds of its own work before the query
    frame: pl.LazyFrame | None = None
    dataset: Dataset | None = None
    pending: PendingWrite | None = None
    rows: int | None = None
    published: bool = False
    feeds: bool = False  # a member reads its frame

    @property
    def task(self) -> TaskNode:
        return self.execution.task


@dataclass
class FusedGroup:
    context: RunContext
    group: Group
    runs: list[TaskRun] = field(default_factory=list)
    finished: set[str] = field(default_factory=set)
    members: dict[str, _Member] = field(default_factory=dict)

    def run(self) -> list[TaskRun]:
        """Every member's outcome, upstream first; never raises. Members below a failed one
        are left out: the scheduling loop records them skipped."""
        token = self.context.stop.token()
        try:
            self._prepare()
            if self.members:
                self._execute(token)
        except Exception:
            self._discard()
            self._record_published(shared=0.0)
            if self.context.stop.stopped:
                return self.runs + self._interrupted()
            self._one_by_one()
        finally:
            self.context.stop.release(token)
        return self.runs

    # -- 1. cache and inputs ------------------------------------------------------------------
    def _prepare(self) -> None:
        context = self.context
        for name in self.group.members:
            task = context.dag.task(name)
            started = time.perf_counter()
            execution = TaskExecution(context, task)
            if context.reporter:
                context.reporter.task_started(context.dag.name, name)
            inside = {}
            for param, dataset_id in task.inputs.items():
                producer = context.dag.producer(dataset_id)
                if producer is not None and producer in self.members:
                    inside[param] = producer
            if not inside:
                cached = execution.from_cache()
                if cached is not None:
                    self._done(cached)
                    continue
            outside = [p for p in task.inputs if p not in inside]
            if inside:  # its published inputs are stat-ed now, its members' after the publish
                execution.stat_inputs(outside)
                execution.func = context.function(task)
            execution.check_readable(outside)  # what comes from a member is its plan, not a file
            member = _Member(execution, inside)
            self.members[name] = member
            member.prepared = time.perf_counter() - started

    # -- 2. and 3. one query, then the publishes ------------------------------------------------
    def _plan(self, member: _Member) -> pl.LazyFrame:
        started = time.perf_counter()
        event, options = member.execution.event, self.context.options
        outside = {p: loc for p, loc in event.inputs.items() if p not in member.inside}
        frames = core.read_inputs(event.model_copy(update={"inputs": outside}), options)
        for param, producer in member.inside.items():
            location, upstream = event.inputs[param], self.members[producer].frame
            assert upstream is not None
            check_input(event.task, param, location.uri, upstream, location.schema_)
            frames[param] = upstream
        assert member.execution.func is not None
        frame = core.call_task(event, member.execution.func, frames)
        check_output(event.task, event.output.uri, frame, event.output.schema_)
        if member.feeds:  # computed once for its sink and its readers (Polars may still drop it)
            frame = frame.cache()
        member.frame = frame
        member.dataset = dataset_at(event.output, options)
        member.pending = member.dataset.begin_write(event.partition_by)
        sink = member.pending.sink(frame, lazy=True)
        assert sink is not None
        member.prepared += time.perf_counter() - started
        return sink

    def _execute(self, token: CancelToken) -> None:
        for member in self.members.values():
            for producer in member.inside.values():
                self.members[producer].feeds = True
        sinks = [self._plan(member) for member in self.members.values()]
        token.check()
        started = time.perf_counter()
        pl.collect_all(sinks)
        for member in self.members.values():
            assert member.pending is not None
            member.rows = member.pending.publish(token)
            member.published = True
        self._record_published(shared=time.perf_counter() - started)

    def _record_published(self, shared: float) -> None:
        published = [m for m in self.members.values() if m.published and m.task.name not in self.finished]
        for member in published:
            self._done(self._succeeded(member, shared / len(published)))

    def _succeeded(self, member: _Member, share: float) -> TaskRun:
        execution, task, context = member.execution, member.task, self.context
        if member.inside:  # its members' outputs are published now: stat them, then the key
            execution.stat_inputs(member.inside)
            reach = helpers_hash(execution.func, task.name) if task.cache and execution.func else ""
            execution.key = (
                None if reach is None else cache_key(task, execution.event, execution.fingerprints, reach)
            )
        assert member.dataset is not None
        stored = member.dataset.stat()
        output = execution.event.output
        fingerprint = context.identity(task, output.uri, output.format, stored) if stored else None
        run = TaskRun(
            name=task.name,
            status="succeeded",
            output=output.uri,
            seconds=round(member.prepared + share, 6),
            rows=member.rows,
            bytes=stored.bytes if stored else 0,
            attempts=1,
            started_at=execution.started_wall,
            finished_at=time.time(),
        )
        return execution._finish(run, fingerprint)

    # -- 4. after a failure -----------------------------------------------------------------
    def _discard(self) -> None:
        for member in self.members.values():
            if member.pending is not None and not member.published:
                member.pending.discard()

    def _one_by_one(self) -> None:
        """Run the members not finished as lone tasks, upstream first; a member below one
        that did not succeed is left out (skipped by the scheduling loop)."""
        context, blocked = self.context, set[str]()
        for name in self.group.members:
            if name in self.finished:
                continue
            if blocked.intersection(context.dag.upstream_tasks(name)):
                blocked.add(name)
                continue
            if context.stop.requested:
                return  # the loop records what did not run as stopped
            run = TaskExecution(context, context.dag.task(name)).run()
            self._done(run)
            if run.status not in ("succeeded", "cached"):
                blocked.add(name)

    def _interrupted(self) -> list[TaskRun]:
        now = time.time()
        return [
            TaskRun(
                name=name,
                status="interrupted",
                output=self.context.uri(self.context.dag.task(name).output),
                error="interrupted",
                started_at=now,
                finished_at=now,
            )
            for name in self.group.members
            if name not in self.finished
        ]

    def _done(self, run: TaskRun) -> None:
        self.runs.append(run)
        self.finished.add(run.name)


def run_group(context: RunContext, group: Group) -> list[TaskRun]:
    """Run ``group`` as one Polars query (see the module docstring); never raises."""
    return FusedGroup(context, group).run()
