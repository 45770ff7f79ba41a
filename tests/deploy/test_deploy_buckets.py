"""Shared data buckets: declared once by the program, under a name that depends only on the
bucket, so their URNs do not change with the pipelines a stack selects or their order; and
aliased to where earlier versions put them, so existing stacks keep their data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from deploy_helpers import COMPONENT, DATA_BUCKETS, REPO, plan, write_project

from glacier.cli import app
from glacier.config import AwsConfig
from glacier.dag.contract import CompiledPipeline
from glacier.deploy.buckets import DataBucketsArgs
from glacier.deploy.component import DeployOptions, PipelineDeployment, PipelineDeploymentArgs
from glacier.deploy.plan import PlanResult, Recorded, run_under_mocks
from glacier.deploy.program import ProgramConfig, declare
from glacier.dsl import load_pipelines
from glacier.errors import DeploymentError

JOIN = str(REPO / "examples/seed_000/example3_join.py")
BUCKET = "aws:s3/bucket:Bucket"
SETTINGS = ("public-access-block", "encryption", "versioning", "tls-only")
OPTIONS = DeployOptions(build_layer=False)


def _bucket(result: PlanResult, name: str) -> Recorded:
    (bucket,) = [r for r in result.by_type(BUCKET) if r.inputs["bucket"] == name]
    return bucket


def _renames(resource: Recorded) -> list[dict[str, str]]:
    """The aliases naming an earlier logical name (pulumi-aws adds type-only ones)."""
    return [alias for alias in resource.aliases if "name" in alias]


def _cli_bucket(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["plan", JOIN, "--format", "json", *args])
    assert result.exit_code == 0, result.output
    resources = json.loads(result.stdout)["resources"]
    (bucket,) = [r for r in resources if r["type"] == BUCKET and r["inputs"]["bucket"] == "data"]
    return dict(bucket)


def test_glacier_plan_declares_bucket_data_the_same_with_or_without_pipeline_selection() -> None:
    everything = _cli_bucket()
    one = _cli_bucket("--pipeline", "join_step2")
    assert everything == one  # same logical name, parent and inputs
    assert (everything["name"], everything["parent"]) == ("data-buckets-data", "data-buckets")
    full, selected = plan(JOIN, options=OPTIONS), plan(JOIN, pipeline="join_step2", options=OPTIONS)
    assert _bucket(full, "data").urn == _bucket(selected, "data").urn
    assert _bucket(full, "data").urn == (
        "urn:pulumi:plan::glacier::glacier:aws:DataBuckets$aws:s3/bucket:Bucket::data-buckets-data"
    )
    for setting in SETTINGS:
        assert (
            full.get(f"data-buckets-data-{setting}").urn == selected.get(f"data-buckets-data-{setting}").urn
        )


SHARED = """
import polars as pl

from glacier import Provider
from glacier.config import AwsConfig

provider = Provider(config=AwsConfig(region="eu-west-1", tags={{"team": "data"}}))


@provider.serverless().task()
def copy_{name}(df: pl.LazyFrame) -> pl.LazyFrame:
    return df


out = provider.bucket("shared-lake", "raw/{name}.parquet").transform(copy_{name}).to(
    provider.bucket("shared-lake", "out/{name}.parquet")
).with_name("{name}")
"""


def test_the_order_of_modules_does_not_move_a_shared_bucket(tmp_path: Path) -> None:
    first = write_project(tmp_path, SHARED.format(name="alpha"), "alpha_pipes.py")
    second = write_project(tmp_path, SHARED.format(name="beta"), "beta_pipes.py")

    def planned(*modules: Path) -> PlanResult:
        config = ProgramConfig(modules=tuple(str(m) for m in modules), options=OPTIONS)
        return run_under_mocks(lambda: declare(config, load_pipelines))

    forward, backward = planned(first, second), planned(second, first)
    a, b = _bucket(forward, "shared-lake"), _bucket(backward, "shared-lake")
    assert (a.urn, a.inputs) == (b.urn, b.inputs)
    assert a.inputs["tags"] == {"team": "data"}  # no pipeline's name: it belongs to neither
    assert a.inputs["region"] == "eu-west-1"
    assert len(forward.by_type(BUCKET)) == 2  # shared-lake + the program's artifacts bucket
    assert [r.name for r in forward.by_type(DATA_BUCKETS)] == ["data-buckets"]


def test_buckets_answer_to_their_names_in_stacks_made_by_earlier_versions() -> None:
    # Before, bucket 'data' was '<pipeline>-bucket-data' under the first pipeline's component
    # (which one depended on the selection): every pipeline that uses it is an alias parent.
    result = plan(JOIN, pipeline="join_step2", options=OPTIONS)
    everything = plan(JOIN, options=OPTIONS)
    owners = ("join_step1", "join_step2", "summarize")
    assert _renames(_bucket(result, "data")) == [
        {"name": f"{p}-bucket-data", "parent": f"urn:pulumi:plan::glacier::{COMPONENT}::{p}"} for p in owners
    ]
    for setting in SETTINGS:
        aliases = _renames(result.get(f"data-buckets-data-{setting}"))
        assert [a["name"] for a in aliases] == [f"{p}-bucket-data-{setting}" for p in owners]
    # The alias parents are those components' URNs, as the engine names them.
    assert [a["parent"] for a in _renames(_bucket(result, "data"))] == [everything.get(p).urn for p in owners]
    assert not _renames(result.get("artifacts-us-east-1-bucket"))  # new resources carry no renames


def test_a_component_refuses_a_managed_bucket_the_program_did_not_declare() -> None:
    (compiled,) = load_pipelines(REPO / "examples/seed_000/example1_simple_etl.py").pipelines

    def program() -> dict[str, object]:
        args = PipelineDeploymentArgs(pipeline=compiled, options=OPTIONS)
        PipelineDeployment(compiled.name, args)
        return {}

    with pytest.raises(DeploymentError, match=r"managed bucket\(s\) 'data' that the program did not declare"):
        run_under_mocks(program)


def test_a_component_needs_the_project_root() -> None:
    (compiled,) = load_pipelines(REPO / "examples/seed_000/example1_simple_etl.py").pipelines
    rootless = CompiledPipeline(dag=compiled.dag, functions=compiled.functions)

    def program() -> dict[str, object]:
        PipelineDeployment(rootless.name, PipelineDeploymentArgs(pipeline=rootless, options=OPTIONS))
        return {}

    with pytest.raises(DeploymentError, match="'simple_etl' has no project root"):
        run_under_mocks(program)


def test_pipelines_sharing_a_bucket_from_different_regions_are_refused() -> None:
    (compiled,) = load_pipelines(REPO / "examples/seed_000/example1_simple_etl.py").pipelines
    elsewhere = compiled.dag.model_copy(
        update={"name": "elsewhere", "storage": AwsConfig(region="eu-west-2")}
    )
    with pytest.raises(DeploymentError, match=r"Bucket 'data' is used by pipelines in different regions"):
        DataBucketsArgs.for_pipelines([compiled.dag, elsewhere], DeployOptions())
    tagged = compiled.dag.model_copy(
        update={"name": "tagged", "storage": AwsConfig(region="us-east-1", tags={"team": "other"})}
    )
    team = compiled.dag.model_copy(update={"storage": AwsConfig(region="us-east-1", tags={"team": "data"})})
    with pytest.raises(
        DeploymentError, match=r"Bucket 'data' gets tag 'team' = 'data' .* 'other' from pipeline 'tagged'"
    ):
        DataBucketsArgs.for_pipelines([team, tagged], DeployOptions())
    # The stack's own region decides for both: no conflict.
    (bucket,) = DataBucketsArgs.for_pipelines(
        [compiled.dag, elsewhere], DeployOptions(region="us-west-2")
    ).buckets
    assert (bucket.name, bucket.region, bucket.earlier_owners) == (
        "data",
        "us-west-2",
        ("simple_etl", "elsewhere"),
    )


def test_these_errors_are_documented() -> None:
    doc = (REPO / "docs/errors.md").read_text()
    for case in (
        "data_bucket_not_declared",
        "component_without_root",
        "shared_bucket_two_regions",
        "shared_bucket_tag_conflict",
        "unknown_generate_option",
    ):
        assert f"`{case}`" in doc


def test_the_data_buckets_component_is_parented_to_the_stack() -> None:
    result = plan(JOIN, options=OPTIONS)
    (component,) = result.by_type(DATA_BUCKETS)
    assert (
        component.parent is None
        and component.urn == f"urn:pulumi:plan::glacier::{DATA_BUCKETS}::data-buckets"
    )
    assert _bucket(result, "data").parent == "data-buckets"
