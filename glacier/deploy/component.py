"""The Pulumi ComponentResource that deploys one pipeline, walking its typed DAG only.

Children (artifacts, roles, log groups, functions, jobs, the state machine) are all
parented to the component, named from user-declared ids with the component's name in front,
and carry nothing random, so an unchanged pipeline previews with no diff. The managed data
buckets the pipeline's datasets live in are the program's (``glacier.deploy.buckets``),
declared once for every pipeline that shares them; the component takes them in its args.

The resource kinds are declared layer by layer: ``base`` (names, options, roles, logs),
``artifacts`` (bucket, bundle, layers), ``compute`` (functions, jobs, applications) and
``orchestration`` (state machine, backfill state machine) and ``triggers`` (schedule, arrival rules).
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from glacier.dag.contract import CompiledPipeline
from glacier.dag.model import PipelineDAG
from glacier.deploy import naming
from glacier.deploy.buckets import PIPELINE_TYPE
from glacier.deploy.catalog import (
    STORAGE_FORMATS,
    CatalogDeclaration,
    CatalogTableSpec,
    catalog_targets,
    declare_tables,
    table_spec,
)
from glacier.deploy.options import DeployOptions, check_cloud_runnable, deploy_region, deploy_tags
from glacier.deploy.program_artifacts import ProgramArtifacts
from glacier.deploy.triggers import TriggerLayer
from glacier.deploy.unique_names import check_unique_names
from glacier.errors import DeploymentError
from glacier.runtime.event import partition_columns

TYPE_TOKEN = PIPELINE_TYPE

__all__ = ["TYPE_TOKEN", "DeployOptions", "PipelineDeployment", "PipelineDeploymentArgs"]


@dataclass(frozen=True)
class PipelineDeploymentArgs:
    """What one pipeline's component needs.

    ``pipeline``: the compiled pipeline (its DAG, task functions, and project root, which is
    the code bundle's root). ``data_buckets``: the program's managed buckets by bucket name
    (``DataBuckets.buckets``); every managed bucket the pipeline uses must be among them.
    ``artifacts``: the program's artifacts of the pipeline's region (``ProgramArtifacts``:
    the bucket the code bundle goes to, the layers and Spark runtime files).
    """

    pipeline: CompiledPipeline
    options: DeployOptions = field(default_factory=DeployOptions)
    data_buckets: Mapping[str, aws.s3.Bucket] = field(default_factory=dict)
    # The program's Glue database (``catalog.declare_database``): every dataset with a schema
    # gets a table. ``catalog_tables`` (dataset id -> table) is shared by the program's
    # components, so a dataset several pipelines use gets one table.
    catalog: CatalogDeclaration | None = None
    catalog_tables: MutableMapping[str, pulumi.Resource] = field(default_factory=dict)
    artifacts: ProgramArtifacts | None = None


class PipelineDeployment(TriggerLayer):
    """Everything one pipeline needs on AWS, with the state machine that runs it."""

    state_machine_arn: pulumi.Output[str]

    def __init__(
        self, name: str, args: PipelineDeploymentArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        dag = args.pipeline.dag
        check_cloud_runnable(dag)
        check_unique_names([dag], args.options)
        self.dag = dag
        self.functions = args.pipeline.functions
        self.project_root = _project_root(args.pipeline)
        self.options = args.options
        self.region = deploy_region(dag, args.options)
        self.partition = naming.partition_for(self.region)
        self.tags = {**deploy_tags(dag, args.options), "glacier:pipeline": dag.name}
        self.account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.data_buckets = _data_buckets_of(args)

        self._artifacts(args.artifacts)
        self._catalog_tables(args)
        self._compute()
        self._orchestration(list(self.data_buckets.values()))
        self._backfill(list(self.data_buckets.values()))
        self._triggers()
        self.state_machine_arn = self.state_machine.arn
        self.register_outputs(self.outputs())

    def _backfill(self, data_buckets: list[pulumi.Resource]) -> None:
        """A partitioned pipeline's backfill state machine (``glacier backfill --cloud``)."""
        self.backfill_state_machine = self._backfill_state_machine(data_buckets)

    def _catalog_tables(self, args: PipelineDeploymentArgs) -> None:
        """A Glue table per dataset with a schema (declared or derived), so Athena can query
        what a run writes; single files get their symlink manifest in the artifacts bucket."""
        self.catalog_table_resources: dict[str, aws.glue.CatalogTable] = {}
        specs = catalog_specs(self.dag)
        if args.catalog is None or not specs:
            return
        # Directory outputs: their task updates the table after each publish (its event says
        # which table, its role may add partitions to it).
        self.catalog_targets = catalog_targets(specs, args.catalog.name)
        self.catalog_table_resources = declare_tables(
            self,
            self._name,
            specs,
            catalog=args.catalog,
            manifest_bucket=self.artifacts_bucket.bucket,
            registry=args.catalog_tables,
        )

    def outputs(self) -> dict[str, Any]:
        buckets = sorted({ds.bucket for ds in self.dag.datasets})
        return {
            "state_machine_arn": self.state_machine.arn,
            "state_machine_name": self.state_machine.name,
            # A managed bucket by its resource (so the output waits for it), others by name.
            "buckets": [self.data_buckets[b].bucket if b in self.data_buckets else b for b in buckets],
            "artifacts_bucket": self.artifacts_bucket.bucket,
            "functions": {task: fn.name for task, fn in sorted(self.function_resources.items())},
            "jobs": {task: job.name for task, job in sorted(self.job_resources.items())},
            "emr_applications": {task: app.id for task, (app, _) in sorted(self.emr_resources.items())},
            **(
                {"backfill_state_machine_arn": self.backfill_state_machine.arn}
                if self.backfill_state_machine is not None
                else {}
            ),
            **(
                {"catalog_tables": {ds: t.name for ds, t in sorted(self.catalog_table_resources.items())}}
                if self.catalog_table_resources
                else {}
            ),
        }


def catalog_specs(dag: PipelineDAG) -> list[CatalogTableSpec]:
    """The catalog tables of a DAG: one per dataset with a schema in a format Athena reads;
    a directory dataset's ``partition_by`` columns are its partition keys."""
    keys = {task.output: partition_columns(task) or [] for task in dag.tasks}
    return [
        table_spec(
            bucket=ds.bucket,
            path=ds.path,
            fmt=ds.format,
            schema=ds.columns,
            partition_by=keys.get(ds.id) or list(ds.partition_by),
        )
        for ds in dag.datasets
        if ds.columns is not None and ds.format in STORAGE_FORMATS
    ]


def _project_root(pipeline: CompiledPipeline) -> Path:
    if pipeline.root is None:
        raise DeploymentError(
            f"Pipeline '{pipeline.name}' has no project root, so its code cannot be bundled.",
            fix="load it with glacier.load_pipelines(path) (or the CLI), or build "
            "CompiledPipeline(..., root=<folder of the pipeline module's package>).",
        )
    return pipeline.root


def _data_buckets_of(args: PipelineDeploymentArgs) -> dict[str, aws.s3.Bucket]:
    """The managed buckets this pipeline uses, from the program's declared ones."""
    dag = args.pipeline.dag
    managed = sorted({ds.bucket for ds in dag.datasets if ds.managed})
    missing = [b for b in managed if b not in args.data_buckets]
    if missing:
        raise DeploymentError(
            f"Pipeline '{dag.name}' uses managed bucket(s) {', '.join(map(repr, missing))} that the "
            "program did not declare.",
            fix="declare them once with glacier.deploy.buckets.DataBuckets(...) and pass its "
            "buckets as PipelineDeploymentArgs(data_buckets=...), or mark them managed=False.",
        )
    return {b: args.data_buckets[b] for b in managed}
