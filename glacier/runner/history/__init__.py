"""Run history: an embedded SQLite database in the project's state folder.

Location: ``<state_dir>/history.sqlite``; ``state_dir`` defaults to ``$GLACIER_STATE_DIR`` or
``./.glacier``. WAL journal, ``synchronous=NORMAL`` (a commit costs no fsync).

Schema (version 4), ``PRAGMA user_version`` holding the version:

- ``runs``: run_id, pipeline, storage, status, started_at, seconds, error; since v2 pid,
  pid_start (the pid's start time, to tell a reused pid), host, updated_at (heartbeat).
  Status: ``running | succeeded | failed | interrupted | died``.
- ``tasks``: one row per task per run: run_id, pipeline, task, status, attempts,
  started_at, seconds, rows, output_bytes, input_bytes (JSON: dataset id -> bytes),
  output URI, cache_key, output_fingerprint, input_fingerprints (JSON), error; since v2
  traceback (the full text) and fix; since v3 partition; since v4 schema_added (JSON:
  dataset URI -> column -> dtype of the columns met beyond a ``schema_mode="evolve"``
  declaration). Status: ``succeeded | cached | failed | skipped | interrupted | cancelled``.

Migrations (``schema.MIGRATIONS``, applied in order, all in one transaction, by the first
writer that opens an older database; readers read every older version as it is):

- v1: the layout before versions were recorded (user_version 0 with the tables present).
- v2: runs.pid, runs.pid_start, runs.host, runs.updated_at, tasks.traceback, tasks.fix;
  indexes runs(pipeline, started_at) and runs(status).
- v3: tasks.partition; index tasks(pipeline, task, partition, started_at).
- v4: tasks.schema_added.

A database with a newer version than this code knows is refused (``HistoryError``); so are
a state folder that is a file, a read-only one (for writing) and a corrupt database, each
in one line naming the path and the fix. Reading never writes and never creates anything:
with no history, reads return nothing.

A run still ``running`` whose process is gone (see ``liveness``) is reported as ``died``
by the readers, and marked so in the database by ``mark_dead_runs()`` and by every
``start_run()``.

Write API (``History(state_dir)``): ``start_run(pipeline, storage) -> run_id``;
``record_task(run_id, pipeline, TaskRecord)``; ``record_tasks(run_id, pipeline, records)``
(one transaction); ``finish_run(run_id, status, seconds, error=None, *, tasks=())``;
``heartbeat(run_id)`` and ``with keep_alive(run_id):``; ``mark_dead_runs(pipeline=None)``.

Read API (``glacier history``, the cost analysis, reports): ``runs(pipeline=None,
limit=20)``, ``run(run_id)``, ``latest_run(pipeline=None)`` -> ``RunRecord``;
``task_rows(run_id)``, ``task_history(pipeline, task, limit=10, statuses=None)`` (oldest
first), ``last_success(pipeline, task)`` -> ``TaskRecord``; ``latest_task_stats(pipeline)
-> dict[str, TaskStats]``: per task, the latest run that actually executed it successfully
(cached skips are not measurements). ``TaskStats`` has ``seconds``, ``rows`` (None when
unknown), ``output_bytes`` (alias ``bytes``) and ``input_bytes`` (dataset id -> bytes).
"""

from glacier.runner.history.records import (
    RUN_STATUSES,
    TASK_STATUSES,
    RunRecord,
    TaskRecord,
    TaskStats,
)
from glacier.runner.history.schema import CURRENT_VERSION
from glacier.runner.history.store import History, default_state_dir

__all__ = [
    "CURRENT_VERSION",
    "RUN_STATUSES",
    "TASK_STATUSES",
    "History",
    "RunRecord",
    "TaskRecord",
    "TaskStats",
    "default_state_dir",
]
