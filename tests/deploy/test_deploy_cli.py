"""``glacier plan`` / ``glacier init``, ``run(mode="generate")`` and the Pulumi program itself."""

from __future__ import annotations

import json
import os
import runpy
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner
from deploy_helpers import COMPONENT, REPO, write_project

from glacier.cli import app
from glacier.deploy.plan import run_under_mocks
from glacier.dsl.discovery import load_pipelines
from glacier.errors import DeploymentError

runner = CliRunner()
EXAMPLE = str(REPO / "examples/seed_000/core_multi_source.py")


def test_plan_json_has_every_resource_and_is_deterministic() -> None:
    first = runner.invoke(app, ["plan", EXAMPLE, "--format", "json"])
    second = runner.invoke(app, ["plan", EXAMPLE, "--format", "json"])
    assert first.exit_code == 0, first.output
    assert first.stdout == second.stdout
    doc = json.loads(first.stdout)
    assert set(doc) == {"resources", "outputs"}
    assert all(set(r) == {"type", "name", "parent", "inputs"} for r in doc["resources"])
    machine = next(r for r in doc["resources"] if r["type"] == "aws:sfn/stateMachine:StateMachine")
    assert json.loads(machine["inputs"]["definition"])["StartAt"] == "join_data"
    assert doc["outputs"]["sales_join"]["state_machine_name"] == "sales_join-sfn"


def test_plan_text_lists_type_name_parent() -> None:
    result = runner.invoke(app, ["plan", EXAMPLE])
    assert result.exit_code == 0, result.output
    assert f"+ {COMPONENT}  sales_join" in result.stdout
    assert (
        "+ aws:lambda/function:Function  sales_join-summarize-function  (parent: sales_join)" in result.stdout
    )
    # 28 + the DataBuckets and Artifacts components + a lifecycle rule set per bucket (data, artifacts)
    # (the Glue job logs to two groups, <prefix>/output and <prefix>/error)
    assert "33 resources" in result.stdout


def test_plan_selects_one_pipeline() -> None:
    path = str(REPO / "examples/seed_000/example3_join.py")
    result = runner.invoke(app, ["plan", path, "--pipeline", "join_step2", "--format", "json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert list(doc["outputs"]) == ["join_step2"]
    assert {r["name"] for r in doc["resources"] if r["type"] == COMPONENT} == {"join_step2"}


def test_plan_user_error_is_one_line_exit_1() -> None:
    result = runner.invoke(app, ["plan", EXAMPLE, "--pipeline", "nope"])
    assert result.exit_code == 1
    assert "No pipeline named 'nope'" in result.output and "sales_join" in result.output
    assert "Traceback" not in result.output


def test_init_scaffolds_a_project_that_plans(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "newproj"
    result = runner.invoke(app, ["init", str(target)])
    assert result.exit_code == 0, result.output
    assert {p.name for p in target.iterdir()} == {
        "Pulumi.yaml",
        "__main__.py",
        "pipelines.py",
        "requirements.txt",
        "data",
    }
    assert "glacier:pipelines" in (target / "Pulumi.yaml").read_text()
    monkeypatch.chdir(target)
    ran = runner.invoke(app, ["run", "pipelines.py", "--quiet", "--state-dir", str(tmp_path / "state")])
    assert ran.exit_code == 0, ran.output  # the sample data is there: it runs at once
    totals = pl.read_parquet(target / "data/glacier-example-data/output/totals.parquet").sort("category")
    assert totals["category"].to_list() == ["a", "b", "c"] and totals["value"].null_count() == 0
    planned = runner.invoke(app, ["plan", "pipelines.py", "--format", "json"])
    assert planned.exit_code == 0, planned.output
    assert "example_pipeline" in json.loads(planned.stdout)["outputs"]
    again = runner.invoke(app, ["init", str(target), "--name", "other"])
    assert again.exit_code == 1 and "already has different pipelines.py" in again.output
    assert "move those files out of it" in again.output and "overwrite=True" not in again.output


def test_run_generate_writes_a_ready_project(tmp_path: Path) -> None:
    src = write_project(
        tmp_path / "src", (REPO / "examples/seed_000/example1_simple_etl.py").read_text(), "etl.py"
    )
    module = load_pipelines(src)
    (pipeline_object,) = [
        v for v in vars(__import__(module.module_name)).values() if type(v).__name__ == "Pipeline"
    ]
    project = pipeline_object.run(mode="generate", output_dir=tmp_path / "infra")
    out = tmp_path / "infra"
    assert project.path == out.resolve()
    assert (out / "etl.py").read_text() == src.read_text()
    assert 'value: ["etl.py"]' in (out / "Pulumi.yaml").read_text()
    assert 'value: ["simple_etl"]' in (out / "Pulumi.yaml").read_text()
    assert (out / "__main__.py").read_text() == (tmp_path / "infra" / "__main__.py").read_text()
    (out / "Pulumi.yaml").write_text("name: edited\n")
    with pytest.raises(DeploymentError, match=r"already has different Pulumi\.yaml") as clash:
        pipeline_object.run(mode="generate", output_dir=out)
    assert clash.value.fix == "choose an empty directory, or pass overwrite=True to replace them."
    pipeline_object.run(mode="generate", output_dir=out, overwrite=True)
    assert 'value: ["simple_etl"]' in (out / "Pulumi.yaml").read_text()


def test_pulumi_program_deploys_the_configured_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    """pulumi_programs/__main__.py, run as the engine would (config from the environment)."""
    config = {
        "glacier:pipelines": json.dumps([str(REPO / "examples/seed_000/example3_join.py")]),
        "glacier:select": json.dumps(["join_step1", "summarize"]),
        "glacier:buildLayer": "false",
    }
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))  # how the engine passes config

    def program() -> dict[str, object]:
        runpy.run_path(str(REPO / "pulumi_programs" / "__main__.py"), run_name="__main__")
        return {}

    result = run_under_mocks(program)
    components = {r.name for r in result.resources if r.type == COMPONENT}
    assert components == {"join_step1", "summarize"}
    assert result.get("summarize-sfn").inputs["name"] == "summarize-sfn"
    assert "PULUMI_CONFIG" in os.environ


def test_pulumi_yaml_points_into_pulumi_programs() -> None:
    text = (REPO / "Pulumi.yaml").read_text()
    assert "main: pulumi_programs/" in text
    assert (REPO / "pulumi_programs" / "__main__.py").exists()


def test_config_paths_are_relative_to_the_project_root() -> None:
    from glacier.deploy.program import _from_root, _names

    assert _from_root("pipelines.py", Path("/proj")) == "/proj/pipelines.py"
    assert _from_root("pkg/pipes.py", Path("/proj")) == "/proj/pkg/pipes.py"
    assert _from_root("my_package.pipelines", Path("/proj")) == "my_package.pipelines"
    assert _from_root("/abs/p.py", Path("/proj")) == "/abs/p.py"
    assert _from_root("p.py", None) == "p.py"
    assert _names('["a.py", "b.py"]') == ("a.py", "b.py")
    assert _names("a.py, b.py") == ("a.py", "b.py")
    assert _names(None) == ()


def test_generated_projects_run_the_one_pulumi_program(tmp_path: Path) -> None:
    """``glacier init`` and ``run(mode="generate")`` copy pulumi_programs/__main__.py itself."""
    from glacier.deploy.generate import program_text

    program = (REPO / "pulumi_programs" / "__main__.py").read_bytes()
    assert program_text() == program
    result = runner.invoke(app, ["init", str(tmp_path / "proj")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "proj" / "__main__.py").read_bytes() == program
