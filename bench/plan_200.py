"""`glacier plan` of a 200-task pipeline vs a hand-written pulumi_aws program declaring the
same resources, both under the same Pulumi mocks.

    .venv/bin/python bench/plan_200.py [--tasks 200] [--repeat 3]

1. Writes a pipeline module with N Lambda tasks wired as a random pipeline-like DAG (each
   task reads 1-3 recent datasets; a final task reads every sink), seeded.
2. Runs `glacier plan` on it (discovery, DAG, component, state machine, IAM) and records
   every resource it declares.
3. Writes the hand-written equivalent: a plain pulumi_aws program with one literal
   constructor call per resource (same classes, names, parents and inputs, no Glacier).
4. Times both in fresh processes, best of --repeat: the program body under the mocks
   (imports excluded, as both import pulumi_aws) and the whole process.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PY = sys.executable


def pipeline_module(n: int, seed: int, *, module_level_chains: bool = False) -> str:
    rng = random.Random(seed)
    lines = [
        "import polars as pl",
        "",
        "from glacier import Pipeline, Provider",
        "from glacier.config import AwsConfig",
        "",
        'provider = Provider(config=AwsConfig(region="us-east-1"))',
        "run = provider.serverless()",
        "",
    ]
    sources = [f"src{i}" for i in range(4)]
    for src in sources:
        lines.append(f'{src} = provider.bucket("bench-data", "src/{src}.parquet")')
    available = list(sources)
    consumed: set[str] = set()
    wiring: list[str] = []
    for i in range(n - 1):
        name = f"t{i:03d}"
        k = rng.choice([1, 1, 1, 2, 2, 3])
        picks = sorted(
            {available[max(0, len(available) - 1 - int(rng.expovariate(1 / 4)))] for _ in range(k)}
        )
        consumed.update(picks)
        params = ", ".join(f"{p}: pl.LazyFrame" for p in picks)
        body = picks[0] if len(picks) == 1 else f"pl.concat([{', '.join(picks)}], how='diagonal')"
        lines += ["", "", "@run.task()", f"def {name}({params}) -> pl.LazyFrame:", f"    return {body}"]
        sources_kw = ", ".join(f"{p}={p}" for p in picks)
        target = f'provider.bucket("bench-data", "out/{name}.parquet")'
        wiring.append(f"    {name}_ds = Pipeline({sources_kw}).transform({name}).to({target})")
        available.append(f"{name}_ds")
    sinks = [a for a in available if a.endswith("_ds") and a not in consumed]
    params = ", ".join(f"{s}: pl.LazyFrame" for s in sinks)
    final = 'provider.bucket("bench-data", "out/publish.parquet")'
    lines += [
        "",
        "",
        "@run.task()",
        f"def publish({params}) -> pl.LazyFrame:",
        f"    return pl.concat([{', '.join(sinks)}], how='diagonal')",
        "",
        "",
        "def _wire() -> Pipeline:",
        '    """Wire the tasks (intermediate chains stay local: the module exposes one pipeline)."""',
        *wiring,
        f"    sinks = dict({', '.join(f'{s}={s}' for s in sinks)})",
        f"    return Pipeline(name='bench{n}', **sinks).transform(publish).to({final})",
        "",
        "",
        "bench = _wire()",
    ]
    if module_level_chains:  # every intermediate chain a module-level variable, as in the seeds
        k = lines.index("def _wire() -> Pipeline:")
        body = [line.removeprefix("    ") for line in lines[k + 2 :] if line.startswith("    ")]
        body[-1] = body[-1].replace("return Pipeline(", "bench = Pipeline(")
        lines = lines[:k] + body
    return "\n".join(lines) + "\n"


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _python_value(value: object, depth: int = 0) -> str:
    """Engine inputs as Python constructor arguments (nested keys in snake_case)."""
    if isinstance(value, dict):
        if set(value) == {"file"}:
            return f"pulumi.FileAsset({value['file']!r})"
        items = ", ".join(f"{_snake(k)!r}: {_python_value(v, depth + 1)}" for k, v in value.items())
        return "{" + items + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_python_value(v, depth + 1) for v in value) + "]"
    return repr(value)


def handwritten_program(resources: list[dict[str, object]]) -> str:
    """One pulumi_aws constructor per resource, with literal inputs: what a person would write."""
    lines = ["import pulumi", "import pulumi_aws as aws", "", "components = {}", ""]
    for r in resources:
        if str(r["type"]).startswith("glacier:"):
            lines.append(
                f"components[{r['name']!r}] = pulumi.ComponentResource({r['type']!r}, {r['name']!r})"
            )
    for r in resources:
        token = str(r["type"])
        if token.startswith("glacier:"):
            continue
        module, cls = token.split(":")[1].split("/")[0], token.split(":")[2]
        module = {"lambda": "lambda_"}.get(module, module)
        inputs = dict(r["inputs"])  # type: ignore[call-overload]
        args = ", ".join(f"{_snake(k)}={_python_value(v)}" for k, v in sorted(inputs.items()))
        parent = f"opts=pulumi.ResourceOptions(parent=components[{r['parent']!r}])"
        lines.append(f"aws.{module}.{cls}({r['name']!r}, {args}, {parent})")
    lines.append("for c in components.values():\n    c.register_outputs({})")
    return "\n".join(lines) + "\n"


RUNNER = textwrap.dedent(
    """
    import json, sys, time
    t0 = time.perf_counter()
    import pulumi, pulumi_aws  # both sides pay these imports
    from glacier.deploy.plan import plan, run_under_mocks
    from glacier.deploy.component import DeployOptions
    from glacier.dsl import load_pipelines
    t1 = time.perf_counter()
    kind, target = sys.argv[1], sys.argv[2]
    if kind == "glacier":
        result = plan(target, loader=load_pipelines, options=DeployOptions(build_layer=False))
    else:
        code = compile(open(target).read(), target, "exec")
        result = run_under_mocks(lambda: exec(code, {}) or {})
    t2 = time.perf_counter()
    print(json.dumps({"body": t2 - t1, "imports": t1 - t0, "resources": len(result.resources)}))
    """
)


def timed(kind: str, target: Path, repeat: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(repeat):
        import time

        start = time.perf_counter()
        done = subprocess.run([PY, "-c", RUNNER, kind, str(target)], capture_output=True, text=True, cwd=REPO)
        total = time.perf_counter() - start
        if done.returncode != 0:
            raise SystemExit(done.stderr)
        info = json.loads(done.stdout.strip().splitlines()[-1])
        info["process"] = total
        if not best or info["body"] < best["body"]:
            best = info
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=200)
    parser.add_argument(
        "--module-level-chains", action="store_true", help="declare every intermediate chain at module level"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(REPO))
    from glacier.deploy.component import DeployOptions
    from glacier.deploy.plan import plan
    from glacier.dsl import load_pipelines

    with tempfile.TemporaryDirectory(prefix="glacier-bench-") as tmp:
        module = Path(tmp) / f"bench{args.tasks}.py"
        module.write_text(
            pipeline_module(args.tasks, args.seed, module_level_chains=args.module_level_chains)
        )
        result = plan(str(module), loader=load_pipelines, options=DeployOptions(build_layer=False))
        handwritten = Path(tmp) / "handwritten.py"
        handwritten.write_text(handwritten_program([r.to_json() for r in result.resources]))
        ours = timed("glacier", module, args.repeat)
        theirs = timed("handwritten", handwritten, args.repeat)
    assert ours["resources"] == theirs["resources"], (ours, theirs)
    print(f"pipeline: {args.tasks} tasks (seed {args.seed}), {ours['resources']:.0f} resources each")
    print(f"glacier plan       body {ours['body']:.2f}s  process {ours['process']:.2f}s")
    print(f"hand-written       body {theirs['body']:.2f}s  process {theirs['process']:.2f}s")
    print(f"ratio (body)       {ours['body'] / theirs['body']:.2f}x")
    print(f"ratio (process)    {ours['process'] / theirs['process']:.2f}x")


if __name__ == "__main__":
    main()
