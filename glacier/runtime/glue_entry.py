"""The Glue / EMR Serverless entry script.

The job runs this file with the ``TaskEvent`` as the JSON argument ``--glacier-event``
(Glue ``Arguments`` / EMR ``entryPointArguments``); the code bundle is on the path through
``--extra-py-files`` (Glue) or ``--py-files`` (EMR). It runs the task through the same path
as the Lambda handler (``run_event``: one core for local, Lambda and Spark), prints the
``TaskResult`` JSON, and exits non-zero with a message naming the task if it fails, which
fails the job run and, through ``.sync``, the state machine's Task state. Inputs are read and
the output published by the format's dataset class (``glacier.io.datasets``), as everywhere:
a directory dataset is read at the version its manifest names and published whole.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence


def parse_event(argv: Sequence[str]) -> dict[str, object]:
    """The ``--glacier-event`` JSON among the job's arguments (Glue adds its own, ignored)."""
    parser = argparse.ArgumentParser(prog="glacier-entry", add_help=False)
    parser.add_argument("--glacier-event", required=True)
    known, _unknown = parser.parse_known_args(list(argv))
    event = json.loads(known.glacier_event)
    if not isinstance(event, dict):
        raise SystemExit("glacier: --glacier-event must be a JSON object (a TaskEvent).")
    return event


def main(argv: Sequence[str] | None = None) -> dict[str, object]:
    event = parse_event(sys.argv[1:] if argv is None else argv)
    try:
        from glacier.runtime.lambda_handler import run_event
    except ImportError as exc:
        # Glue gets polars and pydantic through --additional-python-modules; an EMR Serverless
        # release whose Python lacks them cannot run the task: say so, naming it.
        raise SystemExit(
            f"glacier: task '{event.get('task')}' cannot run on this job's Python: {exc}. Fix: run "
            "it on Glue (SparkConfig(engine='glue')), or give the job a Python 3.11+ with polars "
            "and pydantic installed."
        ) from None
    result = run_event(event)
    print(json.dumps(result, sort_keys=True))
    return result


if __name__ == "__main__":
    main()
