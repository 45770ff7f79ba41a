"""State machine definitions: asl-validator on every one, ordering proven by walking them,
series-parallel DAGs scheduled exactly, and lambda-only pipelines run in moto's interpreter."""

from __future__ import annotations

import io
import json
import random
import re
import subprocess
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from deploy_helpers import (
    CONFIGURED,
    EXAMPLES,
    REPO,
    dag_from_deps,
    example_plan,
    plan,
    random_deps,
    series_parallel_deps,
    write_project,
)

from glacier.config import SparkConfig
from glacier.dag.model import PipelineDAG, dependency_map
from glacier.dag.paths import critical_path
from glacier.deploy import asl, naming
from glacier.deploy.component import DeployOptions
from glacier.deploy.schedule import schedule, tasks_of
from glacier.dsl.discovery import load_pipelines
from glacier.errors import DeploymentError
from glacier.runtime.event import TaskEvent

VALIDATOR = REPO / "node_modules" / ".bin" / "asl-validator"


def lambda_targets(dag: PipelineDAG) -> dict[str, asl.Target]:
    return {t.name: asl.LambdaTarget(naming.function_name(dag.name, t.name)) for t in dag.tasks}


def example_definitions() -> dict[str, dict[str, Any]]:
    found = {}
    for path in EXAMPLES:
        for r in example_plan(path).by_type("aws:sfn/stateMachine:StateMachine"):
            found[r.name] = json.loads(r.inputs["definition"])
    return found


def random_dags() -> list[PipelineDAG]:
    rng = random.Random(7)
    dags = [
        dag_from_deps(random_deps(rng, rng.randint(2, 30), rng.uniform(0.05, 0.4)), f"r{i}")
        for i in range(30)
    ]
    dags += [dag_from_deps(series_parallel_deps(rng, rng.randint(2, 30)), f"sp{i}") for i in range(15)]
    return dags


def test_every_definition_passes_asl_validator(tmp_path: Path) -> None:
    definitions = example_definitions()
    configured = write_project(tmp_path / "configured", CONFIGURED, "configured_asl.py")
    for r in plan(str(configured), options=DeployOptions(build_layer=False)).by_type(
        "aws:sfn/stateMachine:StateMachine"
    ):
        definitions[r.name] = json.loads(r.inputs["definition"])  # Lambda, Glue and EMR tasks
    emr = definitions["configured_emr-sfn"]["States"]["heavier"]
    assert emr["Resource"] == "arn:aws:states:::emr-serverless:startJobRun.sync"
    for dag in random_dags():
        definitions[dag.name] = asl.build_definition(dag, lambda_targets(dag))
    assert len(definitions) > 50
    args = []
    for name, definition in definitions.items():
        path = tmp_path / f"{name}.json"
        path.write_text(asl.dumps(definition))
        args += ["--json-path", str(path)]
    done = subprocess.run([str(VALIDATOR), *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("is valid") == len(definitions)


def test_validator_rejects_a_broken_definition(tmp_path: Path) -> None:
    # The validator really checks: a dangling Next fails.
    dag = random_dags()[0]
    definition = asl.build_definition(dag, lambda_targets(dag))
    first = definition["StartAt"]
    definition["States"][first]["Next"] = "nowhere"
    path = tmp_path / "broken.json"
    path.write_text(asl.dumps(definition))
    done = subprocess.run(
        [str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True, check=False
    )
    assert done.returncode != 0


def assert_ordering(dag: PipelineDAG, definition: dict[str, Any]) -> None:
    """No task can start before every task it depends on has finished; each runs once."""
    before = asl.completed_before(definition)
    assert sorted(before) == sorted(naming.state_name(t.name) for t in dag.tasks)
    for task, deps in dependency_map(dag.tasks).items():
        missing = {naming.state_name(d) for d in deps} - before[naming.state_name(task)]
        assert not missing, f"{task} may start before {missing}"


def test_no_task_starts_before_its_inputs_exist() -> None:
    for path in EXAMPLES:
        result = example_plan(path)
        for compiled in load_pipelines(REPO / path).pipelines:
            state_machine = result.get(f"{compiled.name}-sfn")
            assert_ordering(compiled.dag, json.loads(state_machine.inputs["definition"]))
    for dag in random_dags():
        assert_ordering(dag, asl.build_definition(dag, lambda_targets(dag)))


def test_ordering_check_catches_a_wrong_definition() -> None:
    dag = dag_from_deps({"a": set(), "b": {"a"}})
    definition = asl.build_definition(dag, lambda_targets(dag))
    # Run both in parallel instead: b no longer waits for a.
    wrong = {
        "StartAt": "both",
        "States": {
            "both": {
                "Type": "Parallel",
                "End": True,
                "Branches": [
                    {"StartAt": "a", "States": {"a": {**definition["States"]["a"], "End": True}}},
                    {"StartAt": "b", "States": {"b": definition["States"]["b"]}},
                ],
            }
        },
    }
    wrong["States"]["both"]["Branches"][0]["States"]["a"].pop("Next", None)
    with pytest.raises(AssertionError, match="may start before"):
        assert_ordering(dag, wrong)


def test_series_parallel_dags_run_exactly_on_their_critical_path() -> None:
    rng = random.Random(11)
    for _ in range(40):
        deps = series_parallel_deps(rng, rng.randint(2, 40))
        dag = dag_from_deps(deps)
        definition = asl.build_definition(dag, lambda_targets(dag))
        for _ in range(5):
            durations = {t: rng.uniform(1, 100) for t in deps}
            assert asl.simulate(definition, durations) == pytest.approx(
                critical_path(deps, durations).seconds
            )


def test_independent_branches_run_in_parallel() -> None:
    deps = {"a": set(), "b": set(), "c": {"a", "b"}}
    definition = asl.build_definition(dag_from_deps(deps), lambda_targets(dag_from_deps(deps)))
    first = definition["States"][definition["StartAt"]]
    assert first["Type"] == "Parallel" and len(first["Branches"]) == 2
    assert first["ResultPath"] is None  # branch outputs are dropped: no data flows


def test_general_dag_adds_little_waiting() -> None:
    # The "N" shape (a->c, b->c, b->d) cannot be series-parallel; every task still runs once.
    deps = {"a": set(), "b": set(), "c": {"a", "b"}, "d": {"b"}}
    plan_ = schedule(deps)
    assert sorted(tasks_of(plan_)) == ["a", "b", "c", "d"]
    rng = random.Random(3)
    ratios = []
    for _ in range(100):
        deps = random_deps(rng, rng.randint(5, 25), 0.2)
        definition = asl.build_definition(dag_from_deps(deps), lambda_targets(dag_from_deps(deps)))
        durations = {t: rng.uniform(1, 10) for t in deps}
        ratios.append(asl.simulate(definition, durations) / critical_path(deps, durations).seconds)
    assert min(ratios) >= 1.0 - 1e-9
    assert sum(ratios) / len(ratios) < 1.15


def test_task_state_sends_the_task_event_with_uris_only() -> None:
    compiled = load_pipelines(REPO / "examples/seed_000/core_multi_source.py").pipelines[0]
    definition = asl.build_definition(compiled.dag, lambda_targets(compiled.dag))
    state = definition["States"]["summarize"]
    payload = dict(state["Parameters"]["Payload"])
    assert payload.pop("execution.$") == "$$.Execution.Name"
    event = TaskEvent.model_validate(payload)
    assert event.inputs["df"].uri == "s3://data/joined.parquet"
    assert event.output.uri == "s3://data/summary.parquet"
    assert state["ResultPath"] == "$.last"
    assert set(state["ResultSelector"]) == {"task.$", "output.$"}
    fail = definition["States"][state["Catch"][0]["Next"]]
    assert fail == {
        "Type": "Fail",
        "Comment": "Task summarize failed; the cause is its error.",
        "Error": "summarize.Failed",
        "CausePath": "$.error.Cause",
    }


def test_definitions_are_emitted_with_sorted_keys() -> None:
    for path in EXAMPLES:
        for r in example_plan(path).by_type("aws:sfn/stateMachine:StateMachine"):
            text = r.inputs["definition"]
            assert text == json.dumps(json.loads(text), sort_keys=True)


def test_too_big_pipeline_is_refused_with_a_clear_message() -> None:
    deps = {f"t{i:04d}": ({f"t{i - 1:04d}"} if i else set()) for i in range(1800)}
    dag = dag_from_deps(deps, "huge")
    with pytest.raises(DeploymentError, match=r"'huge' \(1800 tasks\) is too big.*history events.*split it"):
        asl.build_definition(dag, lambda_targets(dag))


# -- moto's Step Functions interpreter ---------------------------------------------------------

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}


def _run_in_moto(
    definition: dict[str, Any], functions: list[str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    import boto3
    from moto import mock_aws

    with mock_aws(config=MOTO_CONFIG):  # type: ignore[arg-type]
        region = "us-east-1"
        role = boto3.client("iam", region_name=region).create_role(
            RoleName="sfn", AssumeRolePolicyDocument="{}"
        )
        role_arn = role["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as zf:
            zf.writestr("handler.py", "def handler(event, context):\n    return event\n")
        lam = boto3.client("lambda", region_name=region)
        for name in functions:
            lam.create_function(
                FunctionName=name,
                Runtime="python3.12",
                Role=role_arn,
                Handler="handler.handler",
                Code={"ZipFile": code.getvalue()},
            )
        sfn = boto3.client("stepfunctions", region_name=region)
        arn = sfn.create_state_machine(name="sm", definition=asl.dumps(definition), roleArn=role_arn)[
            "stateMachineArn"
        ]
        execution = sfn.start_execution(stateMachineArn=arn, input="{}")["executionArn"]
        deadline = time.monotonic() + 30
        while (desc := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
            assert time.monotonic() < deadline
            time.sleep(0.05)
        events = sfn.get_execution_history(executionArn=execution, maxResults=1000)["events"]
        return desc, events


def lambda_only() -> list[tuple[str, str]]:
    """(example, pipeline) for every example pipeline whose tasks all run on Lambda."""
    return [
        (path, p.name)
        for path in EXAMPLES
        for p in load_pipelines(REPO / path).pipelines
        if not any(isinstance(t.executor.config, SparkConfig) for t in p.dag.tasks)
    ]


def run_and_check(dag: PipelineDAG, definition: dict[str, Any], functions: list[str]) -> None:
    desc, events = _run_in_moto(definition, functions)
    assert desc["status"] == "SUCCEEDED"
    started = [e["stateEnteredEventDetails"]["name"] for e in events if e["type"] == "TaskStateEntered"]
    assert sorted(started) == sorted(t.name for t in dag.tasks)
    # Order in the history respects every dependency.
    position = {name: i for i, name in enumerate(started)}
    for task, deps in dependency_map(dag.tasks).items():
        assert all(position[d] < position[task] for d in deps)


@pytest.mark.parametrize(("path", "pipeline"), lambda_only(), ids=lambda v: str(v).replace("/", "."))
def test_lambda_only_example_succeeds_in_moto(path: str, pipeline: str) -> None:
    """The definition exactly as planned (the state machine's input), on its functions."""
    (compiled,) = [p for p in load_pipelines(REPO / path).pipelines if p.name == pipeline]
    result = example_plan(path)
    definition = json.loads(result.get(f"{pipeline}-sfn").inputs["definition"])
    run_and_check(compiled.dag, definition, list(result.outputs[pipeline]["functions"].values()))


def test_general_dag_succeeds_in_moto() -> None:
    dag = dag_from_deps({"a": set(), "b": set(), "c": {"a", "b"}, "d": {"b"}, "e": {"c", "d"}}, "n_shape")
    targets = lambda_targets(dag)
    functions = [t.function_name for t in targets.values() if isinstance(t, asl.LambdaTarget)]
    run_and_check(dag, asl.build_definition(dag, targets), functions)


def test_failing_task_reaches_its_fail_state_in_moto() -> None:
    dag = dag_from_deps({"a": set(), "b": {"a"}}, "failing")
    targets = {**lambda_targets(dag), "b": asl.GlueTarget("no-such-job")}
    definition = asl.build_definition(dag, targets)
    # "b" is a Glue task moto cannot start (no such job; moto also cannot render its event
    # argument): a real failure in the interpreter, which b's Catch must route to b's own
    # Fail state, carrying the error as the cause. "a" ran first and succeeded.
    desc, events = _run_in_moto(definition, [targets["a"].function_name])  # type: ignore[union-attr]
    assert desc["status"] == "FAILED"
    assert desc["error"] == "b.Failed"
    assert desc.get("cause")
    entered = [e["stateEnteredEventDetails"]["name"] for e in events if "stateEnteredEventDetails" in e]
    assert entered[-1] == "b failed"
    assert [e["type"] for e in events].count("TaskSucceeded") == 1


def render_format(intrinsic: str, execution: str) -> str:
    """Evaluate ``States.Format('<literal>', $$.Execution.Name)`` by AWS's documented rules:
    in the literal, a backslash escapes the next character; each unescaped ``{}`` takes the
    next argument. (moto's interpreter unescapes first and then formats, so it cannot run
    templates holding literal braces; this follows the AWS rules instead.)"""
    match = re.fullmatch(r"States\.Format\('((?:\\.|[^'\\])*)', \$\$\.Execution\.Name\)", intrinsic)
    assert match, intrinsic
    literal, out, i = match[1], [], 0
    while i < len(literal):
        if literal[i] == "\\":
            out.append(literal[i + 1])
            i += 2
        elif literal.startswith("{}", i):
            out.append(execution)
            i += 2
        else:
            assert literal[i] not in "{}'", f"unescaped {literal[i]!r} at {i}"
            out.append(literal[i])
            i += 1
    return "".join(out)


def test_spark_event_argument_renders_the_task_event() -> None:
    compiled = load_pipelines(REPO / "examples/seed_000/core_multi_source.py").pipelines[0]
    task = compiled.dag.task("join_data")
    targets = {t.name: asl.GlueTarget(t.name) for t in compiled.dag.tasks}
    state = asl.build_definition(compiled.dag, targets)["States"]["join_data"]
    assert list(state["Parameters"]["Arguments"]) == ["--glacier-event.$"]  # unpartitioned: no partition
    rendered = render_format(state["Parameters"]["Arguments"]["--glacier-event.$"], "run-42")
    event = TaskEvent.model_validate_json(rendered)
    assert event.task == "join_data" and event.code_ref == task.code_ref and event.execution == "run-42"
    assert event.inputs["sales_df"].uri == "s3://data/sales.parquet"
    assert event.output.uri == "s3://data/joined.parquet"
    # A quote, a brace and a backslash in a path survive the escaping.
    tricky = {
        "pipeline": "p",
        "task": "t",
        "code_ref": "m:f",
        "inputs": {},
        "output": {"uri": "s3://b/it's{x}\\.csv", "format": "csv"},
    }
    assert (
        json.loads(render_format(asl.event_argument(tricky), "e"))["output"]["uri"] == "s3://b/it's{x}\\.csv"
    )
