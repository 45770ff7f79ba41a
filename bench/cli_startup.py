"""Start-up of the ``glacier`` command line, and what the CLI library costs (issue 11, item 3).

Run: .venv/bin/python bench/cli_startup.py [--repeat 7]

Whole processes, fresh interpreter each, the kinds of sample interleaved, medians reported
(wall and the child's CPU time, which a loaded machine inflates less):

- ``python -c pass``, ``import polars`` (what a pipeline file imports anyway);
- ``glacier --help`` and ``glacier validate`` of ``bench/tpch_pipelines.py`` (Q3 + Q5 as two
  pipelines) and ``bench/tpch_multi.py`` (all 22 queries, 29 tasks), the real CLI (click);
- the CLI library alone: glacier's click app with every command's body replaced by nothing,
  and the same command tree (every command, argument, option and help text, read from the
  click app) generated as an argparse program, each run with ``--help`` and with
  ``validate <file>`` (parsing only);
- the same parse-only ``run <file>`` in a process that has imported Polars and pydantic
  first, as every ``glacier run`` does: the library's own share of a run.

The library comparison is what switching would save: the rest of ``glacier validate``
(Python, Polars, the pipeline module, the DAG) is the same whatever parses the arguments.
Until session 6 the CLI was typer; its figures (measured with this script's earlier version,
which generated a click program from the typer app) are in BENCHMARKS.md, "CLI library".
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent

# Runs a program given as -c code or a file with argv, then reports the process's CPU time
# (its whole life, interpreter start-up included); the parent times the whole process's wall.
TIMED = """
import resource, sys, runpy
kind, target, *argv = sys.argv[1:]
sys.argv = [target, *argv]
try:
    if kind == "code":
        exec(compile(target, "<code>", "exec"), {"__name__": "__main__"})
    else:
        runpy.run_path(target, run_name="__main__")
except SystemExit as stop:
    if stop.code not in (None, 0):
        raise
use = resource.getrusage(resource.RUSAGE_SELF)
sys.stderr.write(f"CPU {use.ru_utime + use.ru_stime}\\n")
"""


def command_tree() -> list[dict[str, Any]]:
    """glacier's commands as plain data: name, help, and each parameter's shape."""
    import click

    from glacier.cli import app

    commands = []
    for name, command in app.commands.items():
        params = []
        for p in command.params:
            params.append(
                {
                    "name": p.name,
                    "argument": isinstance(p, click.Argument),
                    "opts": list(p.opts),
                    "flag": bool(getattr(p, "is_flag", False)),
                    "required": bool(p.required),
                    "multiple": bool(getattr(p, "multiple", False)),
                    "help": getattr(p, "help", None) or "",
                }
            )
        commands.append({"name": name, "help": command.help or "", "params": params})
    return commands


# glacier's real click app with every command's body replaced by nothing: what the library
# costs to build the app and parse a command line.
CLICK_PARSE_ONLY = """
from glacier.cli import app
for command in app.commands.values():
    command.callback = lambda **options: options
app(prog_name="glacier")
"""

# What a pipeline run imports whatever parses its arguments; with it loaded first, a sample
# shows only the library's own share.
PRELOAD = "import polars, pydantic\npydantic.TypeAdapter(int)\n"


def argparse_program(tree: list[dict[str, Any]], group_help: str) -> str:
    lines = [
        "import argparse",
        f"parser = argparse.ArgumentParser(prog='glacier', description={group_help!r})",
        "commands = parser.add_subparsers(dest='command', required=True)",
    ]
    for command in tree:
        lines.append(f"sub = commands.add_parser({command['name']!r}, help={command['help']!r})")
        for p in command["params"]:
            if p["argument"]:
                nargs = "" if p["required"] else ", nargs='?'"
                lines.append(f"sub.add_argument({p['name']!r}, help={p['help']!r}{nargs})")
                continue
            action = ", action='store_true'" if p["flag"] else (", action='append'" if p["multiple"] else "")
            opts = ", ".join(repr(o) for o in p["opts"])
            lines.append(f"sub.add_argument({opts}, dest={p['name']!r}, help={p['help']!r}{action})")
    lines += ["parser.parse_args()", ""]
    return "\n".join(lines)


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) seconds of one whole process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", TIMED, *args], capture_output=True, text=True, cwd=ROOT, env=env, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args} failed:\n{done.stderr[-2000:]}")
    line = next(x for x in reversed(done.stderr.splitlines()) if x.startswith("CPU "))
    return wall, float(line.removeprefix("CPU "))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = os.pathsep.join(str(p) for p in (ROOT, BENCH, env.get("PYTHONPATH", "")) if p)
    from glacier.cli import app

    tree = command_tree()
    group_help = str(app.help or "")
    cli = "from glacier.cli import main; main()"
    with tempfile.TemporaryDirectory(prefix="glacier-cli-bench-") as tmp:
        click_file, argparse_file = Path(tmp, "cli_click.py"), Path(tmp, "cli_argparse.py")
        click_file.write_text(CLICK_PARSE_ONLY)
        argparse_file.write_text(argparse_program(tree, group_help))
        preloaded = {}
        for library, source in (("click", click_file), ("argparse", argparse_file)):
            preloaded[library] = Path(tmp, f"preloaded_{library}.py")
            preloaded[library].write_text(PRELOAD + source.read_text())
        pipelines, multi = str(BENCH / "tpch_pipelines.py"), str(BENCH / "tpch_multi.py")
        samples: dict[str, list[str]] = {
            "python -c pass": ["code", "pass"],
            "import polars": ["code", "import polars"],
            "glacier --help (click, real CLI)": ["code", cli, "--help"],
            "glacier validate tpch_pipelines.py": ["code", cli, "validate", pipelines],
            "glacier validate tpch_multi.py": ["code", cli, "validate", multi],
            "click: import glacier.cli (app built)": ["code", "import glacier.cli"],
            "click: real tree, --help": ["file", str(click_file), "--help"],
            "click: real tree, validate <file>": ["file", str(click_file), "validate", pipelines],
            "argparse: same tree, --help": ["file", str(argparse_file), "--help"],
            "argparse: same tree, validate <file>": ["file", str(argparse_file), "validate", pipelines],
            "polars + pydantic loaded": ["code", PRELOAD],
            **{
                f"  + {library}, run <file> (parse only)": ["file", str(path), "run", pipelines, "--quiet"]
                for library, path in preloaded.items()
            },
        }
        for sample in samples.values():  # warm the byte-code and file-system caches
            timed(sample, env)
        times: dict[str, list[tuple[float, float]]] = {label: [] for label in samples}
        for _ in range(args.repeat):
            for label, sample in samples.items():
                times[label].append(timed(sample, env))
    print(f"medians of {args.repeat} (fresh process each); load average at the end: {os.getloadavg()[0]:.1f}")
    for label, values in times.items():
        wall = statistics.median(v[0] for v in values) * 1000
        cpu = statistics.median(v[1] for v in values) * 1000
        print(f"{label:<44} {wall:8.1f} ms wall {cpu:8.1f} ms CPU")
    polars = statistics.median(v[0] for v in times["import polars"])
    for label in ("glacier validate tpch_pipelines.py", "glacier validate tpch_multi.py"):
        print(f"{label} / import polars: {statistics.median(v[0] for v in times[label]) / polars:.2f}x wall")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
