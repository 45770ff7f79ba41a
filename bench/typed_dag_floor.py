"""What the SPEC's typed DAG costs a process by itself, after Polars: importing pydantic
(what ``glacier.dag.model`` uses of it) and creating the DAG's model classes. Every command
that compiles a pipeline pays this; nothing Glacier does later can win it back except by
being faster than the user's own Polars work. Each figure is the median over fresh
interpreters (one per repeat, all three phases timed in the same one).

    .venv/bin/python bench/typed_dag_floor.py --repeat 15
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = """
import json, time
t0 = time.perf_counter()
import polars
t1 = time.perf_counter()
from pydantic import BaseModel, ConfigDict, Field, JsonValue, ValidationError, computed_field, model_validator
t2 = time.perf_counter()
import glacier.dag.model
t3 = time.perf_counter()
print(json.dumps({"polars": t1 - t0, "pydantic": t2 - t1, "dag_models": t3 - t2}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    probe = [sys.executable, "-c", PROBE]
    runs = [
        json.loads(subprocess.run(probe, capture_output=True, text=True, check=True).stdout)
        for _ in range(args.repeat)
    ]
    median = {key: 1e3 * statistics.median(run[key] for run in runs) for key in runs[0]}
    print(
        f"import polars {median['polars']:.1f} ms | then pydantic {median['pydantic']:.1f} ms | "
        f"then the DAG models {median['dag_models']:.1f} ms | typed DAG floor "
        f"{median['pydantic'] + median['dag_models']:.1f} ms (median of {args.repeat} processes)"
    )


if __name__ == "__main__":
    main()
