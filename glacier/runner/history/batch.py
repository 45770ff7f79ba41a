"""``TaskBatch``: a run's task records, written to the history in batches.

A transaction per task (BEGIN IMMEDIATE, an INSERT, the heartbeat UPDATE, COMMIT) is a
fixed cost that a run of thousands of tiny tasks pays thousands of times. The local runner
hands each record to its run's batch instead; the batch writes what it holds in one
transaction once it holds ``size`` records or its oldest waited ``every`` seconds (so other
readers, e.g. ``glacier history`` in another terminal, and the run's heartbeat lag by at
most about that), and the run's last records go in the transaction that finishes the run
(``History.finish_run(..., tasks=batch.take())``). A process killed mid-run loses at most
the records of its last ``every`` seconds: the run reads as ``died`` either way, and a lost
success only costs a cache miss (the task runs again).
"""

from __future__ import annotations

import threading
import time

from glacier.runner.history.records import TaskRecord
from glacier.runner.history.store import History

BATCH_SECONDS = 0.5
BATCH_SIZE = 500


class TaskBatch:
    def __init__(
        self,
        history: History,
        run_id: str,
        pipeline: str,
        *,
        every: float = BATCH_SECONDS,
        size: int = BATCH_SIZE,
    ) -> None:
        self.history = history
        self.run_id = run_id
        self.pipeline = pipeline
        self.every = every
        self.size = size
        self._lock = threading.Lock()
        self._pending: list[TaskRecord] = []
        self._since = 0.0  # when the oldest pending record came

    def add(self, record: TaskRecord) -> None:
        """Keep ``record``; write the batch (in this thread) when it is due."""
        now = time.monotonic()
        with self._lock:
            if not self._pending:
                self._since = now
            self._pending.append(record)
            due = len(self._pending) >= self.size or now - self._since >= self.every
        if due:
            self.flush()

    def flush(self) -> None:
        """Write every pending record now, in one transaction."""
        records = self.take()
        if records:
            self.history.record_tasks(self.run_id, self.pipeline, records)

    def take(self) -> list[TaskRecord]:
        """The pending records, which the caller now writes (e.g. with ``finish_run``)."""
        with self._lock:
            records, self._pending = self._pending, []
        return records
