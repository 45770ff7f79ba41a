"""The program's code artifacts, declared once per region for every pipeline deployed there:
the artifacts bucket, one Lambda layer per (architecture, Python version) in use, and the
Spark jobs' entry script and packages (``glacier.deploy.job_packages``: one per engine,
variant and architecture in use, read from S3 so no job installs from PyPI). Each pipeline's
component adds only its own code bundle. Layers and packages are named by their keys, so a
plan names them offline; they are built only when ``DeployOptions.build_layer`` (``pulumi up``).

The bucket is named from the Pulumi project and stack, the account and the region
(``naming.artifacts_bucket_name``), so two stacks or accounts never ask for the same global
name, and an unchanged program names it the same on every preview (no random suffix: the
name is needed, before the bucket exists, in IAM policies and Glue job arguments). It holds
only what the program rebuilds, so it is ``force_destroy`` (``pulumi destroy`` empties it)
and expires noncurrent versions (``glacier.deploy.lifecycle``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_aws as aws

import glacier.runtime
from glacier.config import LambdaConfig, SparkConfig
from glacier.dag.model import PipelineDAG, TaskNode
from glacier.deploy import job_packages, lifecycle, naming, packaging
from glacier.deploy.buckets import BucketCare, private_bucket
from glacier.deploy.options import DeployOptions, deploy_region
from glacier.errors import DeploymentError

ARTIFACTS_TYPE = "glacier:aws:Artifacts"
LayerKey = tuple[str, str]  # (architecture, Python version)
RUNTIME_PREFIX = "glacier/"
# The entry script every Spark task's job runs (Glue ScriptLocation, EMR entryPoint), with the
# TaskEvent as its argument --glacier-event (a partitioned pipeline adds --glacier-partition):
# glacier.runtime.spark_entry.
ENTRY_MODULE = "spark_entry"


def artifacts_name(region: str) -> str:
    """The logical name of the program's artifacts component in ``region``."""
    return naming.logical("artifacts", region)


@dataclass(frozen=True)
class ProgramArtifactsArgs:
    """What the pipelines of one region need: the layers (by architecture and Python
    version) their Lambda tasks use, and whether any runs on Spark."""

    region: str
    layers: tuple[LayerKey, ...] = ()
    spark: bool = False
    job_packages: tuple[job_packages.JobPackageSpec, ...] = ()
    options: DeployOptions = field(default_factory=DeployOptions)

    @classmethod
    def for_pipelines(
        cls, deployed: Sequence[PipelineDAG], options: DeployOptions
    ) -> list[ProgramArtifactsArgs]:
        """One set of artifacts per region the ``deployed`` pipelines deploy to."""
        by_region: dict[str, list[PipelineDAG]] = {}
        for dag in deployed:
            by_region.setdefault(deploy_region(dag, options), []).append(dag)
        return [
            cls(
                region=region,
                layers=tuple(sorted({key for dag in dags for key in layer_keys(dag)})),
                spark=any(isinstance(t.executor.config, SparkConfig) for dag in dags for t in dag.tasks),
                job_packages=job_package_specs(dags),
                options=options,
            )
            for region, dags in sorted(by_region.items())
        ]


def layer_keys(dag: PipelineDAG) -> set[LayerKey]:
    return {
        (t.executor.config.architecture, t.executor.config.python_version)
        for t in dag.tasks
        if isinstance(t.executor.config, LambdaConfig)
    }


def job_package_specs(dags: Sequence[PipelineDAG]) -> tuple[job_packages.JobPackageSpec, ...]:
    """The packages the Spark tasks of ``dags`` run with, each once."""
    specs = {spec for dag in dags for t in dag.tasks if (spec := job_packages.task_package_spec(t))}
    return tuple(sorted(specs, key=lambda spec: spec.file_name))


class ProgramArtifacts(pulumi.ComponentResource):
    """The artifacts bucket of one region, with the layers and runtime files in it."""

    region: str
    bucket: aws.s3.Bucket
    layers: dict[LayerKey, aws.lambda_.LayerVersion]
    built_layers: dict[LayerKey, packaging.LayerBuild]
    spark_objects: list[pulumi.Resource]
    entry_key: str  # the Spark entry script's key in the bucket
    package_objects: dict[job_packages.JobPackageSpec, aws.s3.BucketObjectv2]
    built_packages: dict[job_packages.JobPackageSpec, job_packages.JobPackageBuild]

    def __init__(
        self, name: str, args: ProgramArtifactsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(ARTIFACTS_TYPE, name, None, opts)
        self._name = name
        self.region = args.region
        self.options = args.options
        self.tags = dict(args.options.tags)
        self.account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        self.project, self.stack = pulumi.get_project(), pulumi.get_stack()
        self.bucket = private_bucket(
            self,
            naming.logical(name, "bucket"),
            self.account.apply(self.bucket_name),
            region=self.region,
            tags=self.tags,
            care=BucketCare(
                rules=lifecycle.artifacts_bucket_rules(args.options.artifacts_noncurrent_days),
                force_destroy=True,
            ),
        )
        self.layers, self.built_layers = {}, {}
        for key in args.layers:
            self._layer(*key)
        self.entry_key = f"{RUNTIME_PREFIX}{ENTRY_MODULE}.py"
        self.package_objects, self.built_packages = {}, {}
        self.spark_objects = self._spark_runtime(args.job_packages) if args.spark else []
        self.register_outputs({"bucket": self.bucket.bucket, "layers": self._layer_outputs()})

    def bucket_name(self, account: str) -> str:
        return naming.artifacts_bucket_name(
            self.project, self.stack, account, self.region, self.options.artifacts_prefix
        )

    def s3(self, account: str, key: str) -> str:
        return f"s3://{self.bucket_name(account)}/{key}"

    def object(
        self, label: str, key: str, path: Path, *, parent: pulumi.Resource | None = None
    ) -> aws.s3.BucketObjectv2:
        """An object in the bucket, named ``label`` and parented to ``parent`` (default: this
        component; a pipeline's code bundle is the pipeline component's)."""
        return aws.s3.BucketObjectv2(
            label,
            bucket=self.bucket.id,
            key=key,
            source=pulumi.FileAsset(str(path)),
            region=self.region,
            tags=self.tags,
            opts=pulumi.ResourceOptions(parent=parent or self),
        )

    def _layer(self, architecture: str, python_version: str) -> None:
        """The layer (polars, pydantic, glacier's runtime) for one architecture and Python."""
        spec = packaging.layer_spec(architecture, python_version)  # type: ignore[arg-type]
        if self.options.build_layer:
            self.built_layers[(architecture, python_version)] = packaging.build_layer(spec)
        label = naming.logical(self._name, "layer", architecture, f"py{python_version}")
        s3_key = f"layers/{spec.path.name}"
        obj = self.object(naming.logical(label, "zip"), s3_key, spec.path)
        self.layers[(architecture, python_version)] = aws.lambda_.LayerVersion(
            label,
            layer_name=naming.layer_name(self.project, self.stack, architecture, python_version),
            s3_bucket=self.bucket.id,
            s3_key=s3_key,
            source_code_hash=spec.key,
            compatible_runtimes=[f"python{python_version}"],
            compatible_architectures=[architecture],
            description=f"glacier runtime: {', '.join(spec.requirements)} ({spec.platform})",
            region=self.region,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[obj]),
        )

    def _spark_runtime(self, specs: Sequence[job_packages.JobPackageSpec]) -> list[pulumi.Resource]:
        """The entry script the Spark tasks run and the packages their jobs install."""
        objects: list[pulumi.Resource] = [
            self.object(naming.logical(self._name, "entry-script"), self.entry_key, self._entry_script())
        ]
        for spec in specs:
            if self.options.build_layer:
                self.built_packages[spec] = job_packages.build_job_package(spec)
            label = naming.logical(self._name, "job", spec.engine, spec.variant, spec.architecture)
            self.package_objects[spec] = self.object(label, spec.s3_key, spec.path)
        return [*objects, *self.package_objects.values()]

    def _entry_script(self) -> Path:
        path = Path(glacier.runtime.__file__).resolve().parent / f"{ENTRY_MODULE}.py"
        if self.options.build_layer and not path.is_file():
            raise DeploymentError(
                f"glacier's installation has no Spark entry script {path}.",
                fix="reinstall glacier (pip install --force-reinstall glacier).",
            )
        return path

    def package(self, task: TaskNode) -> job_packages.JobPackageSpec:
        """The package ``task``'s job installs, declared by these artifacts."""
        spec = job_packages.task_package_spec(task)
        if spec is None or spec not in self.package_objects:
            raise DeploymentError(
                f"Spark task '{task.name}' needs a job package its artifacts do not declare.",
                fix="build the artifacts with ProgramArtifactsArgs.for_pipelines(...) of every "
                "deployed pipeline.",
            )
        return spec

    def _layer_outputs(self) -> dict[str, pulumi.Output[str]]:
        return {f"{arch}-py{py}": layer.arn for (arch, py), layer in sorted(self.layers.items())}
