"""The Pulumi ComponentResource that deploys one pipeline, walking its typed DAG only.

Children (buckets, artifacts, roles, log groups, functions, jobs, the state machine) are all
parented to the component, named from user-declared ids with the component's name in front,
and carry nothing random, so an unchanged pipeline previews with no diff.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from glacier.config import AwsConfig, LambdaConfig, SparkConfig
from glacier.dag.model import PipelineDAG, TaskNode
from glacier.deploy import asl, iam, naming, packaging
from glacier.errors import DeploymentError

TYPE_TOKEN = "glacier:aws:PipelineDeployment"
LAMBDA_HANDLER = "glacier.runtime.lambda_handler.handler"
EMR_RELEASE = "emr-7.9.0"
# vCPU and GB of memory per Spark worker type (Glue's sizes, used for EMR capacity too).
WORKER_SIZE = {"G.025X": (2, 4), "G.1X": (4, 16), "G.2X": (8, 32), "G.4X": (16, 64), "G.8X": (32, 128)}


@dataclass(frozen=True)
class DeployOptions:
    """Program-wide choices (from Pulumi config) that are not part of the pipeline itself."""

    region: str | None = None  # default: the pipeline's AwsConfig region, else us-east-1
    artifacts_prefix: str | None = None  # prefix for artifacts bucket names (global namespace)
    build_layer: bool = True  # False: name the layer by its key without building it (plan)
    log_retention_days: int = 30
    schedule: str | None = None  # an EventBridge Scheduler expression, e.g. "rate(1 day)"
    tags: Mapping[str, str] = field(default_factory=dict)


class PipelineDeployment(pulumi.ComponentResource):
    """Everything one pipeline needs on AWS, with the state machine that runs it."""

    state_machine_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        dag: PipelineDAG,
        *,
        project_root: Path,
        functions: Mapping[str, Callable[..., Any]] | None = None,
        options: DeployOptions | None = None,
        bucket_registry: MutableMapping[str, pulumi.Resource] | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(TYPE_TOKEN, name, None, opts)
        self.dag = dag
        self.options = options or DeployOptions()
        self.functions = functions or {}
        self.project_root = project_root
        storage_region = dag.storage.region if isinstance(dag.storage, AwsConfig) else "us-east-1"
        self.region = self.options.region or storage_region
        self.partition = naming.partition_for(self.region)
        self.tags = {**(dag.storage.tags if isinstance(dag.storage, AwsConfig) else {}), **self.options.tags}
        self.tags = {**self.tags, "glacier:pipeline": dag.name}
        self.account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        registry = bucket_registry if bucket_registry is not None else {}

        self.bucket_names = self._data_buckets(registry)
        self.artifacts_bucket = self._managed_bucket("artifacts", self._artifacts_name())
        self._code_objects()
        self.function_resources: dict[str, aws.lambda_.Function] = {}
        self.job_resources: dict[str, aws.glue.Job] = {}
        self.emr_resources: dict[str, tuple[aws.emrserverless.Application, aws.iam.Role]] = {}
        for task in dag.tasks:
            config = task.executor.config
            if isinstance(config, SparkConfig) and config.engine == "emr-serverless":
                self.emr_resources[task.name] = self._emr_application(task, config)
            elif isinstance(config, SparkConfig):
                self.job_resources[task.name] = self._glue_job(task, config)
            else:
                self.function_resources[task.name] = self._function(task, config)
        self.state_machine = self._state_machine()
        if self.options.schedule:
            self._schedule(self.options.schedule)
        self.state_machine_arn = self.state_machine.arn
        self.register_outputs(self.outputs())

    # -- helpers ----------------------------------------------------------------------------
    def _child(self, *parts: str) -> str:
        return naming.logical(self._name, *parts)

    def _opts(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on) or None)

    def _arns(self, account: str) -> iam.Arns:
        return iam.Arns(partition=self.partition, region=self.region, account=account)

    def outputs(self) -> dict[str, Any]:
        return {
            "state_machine_arn": self.state_machine.arn,
            "state_machine_name": self.state_machine.name,
            "buckets": sorted(self.bucket_names),
            "artifacts_bucket": self.artifacts_bucket.bucket,
            "functions": {task: fn.name for task, fn in sorted(self.function_resources.items())},
            "jobs": {task: job.name for task, job in sorted(self.job_resources.items())},
            "emr_applications": {task: app.id for task, (app, _) in sorted(self.emr_resources.items())},
        }

    # -- storage ----------------------------------------------------------------------------
    def _data_buckets(self, registry: MutableMapping[str, pulumi.Resource]) -> list[str]:
        """Managed buckets are declared once per program: the first pipeline that uses one
        owns it; the others reference it by name. External buckets are only referenced."""
        names: list[str] = []
        for bucket in sorted({ds.bucket for ds in self.dag.datasets}):
            managed = any(ds.managed for ds in self.dag.datasets if ds.bucket == bucket)
            if managed and bucket not in registry:
                registry[bucket] = self._managed_bucket(f"bucket-{bucket}", bucket)
            names.append(bucket)
        return names

    def _managed_bucket(self, label: str, bucket_name: str) -> aws.s3.Bucket:
        """A private bucket: public access blocked, encrypted, versioned, TLS only."""
        bucket = aws.s3.Bucket(
            self._child(label), bucket=bucket_name, region=self.region, tags=self.tags, opts=self._opts()
        )
        aws.s3.BucketPublicAccessBlock(
            self._child(label, "public-access-block"),
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            region=self.region,
            opts=self._opts(),
        )
        aws.s3.BucketServerSideEncryptionConfiguration(
            self._child(label, "encryption"),
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="AES256"
                    ),
                    bucket_key_enabled=True,
                )
            ],
            region=self.region,
            opts=self._opts(),
        )
        aws.s3.BucketVersioning(
            self._child(label, "versioning"),
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            region=self.region,
            opts=self._opts(),
        )
        aws.s3.BucketPolicy(
            self._child(label, "tls-only"),
            bucket=bucket.id,
            policy=iam.dumps(iam.tls_only_bucket_policy(self._arns(""), bucket_name)),
            region=self.region,
            opts=self._opts(),
        )
        return bucket

    def _artifacts_name(self) -> str:
        return naming.artifacts_bucket_name(self.dag.name, self.options.artifacts_prefix)

    # -- code artifacts ---------------------------------------------------------------------
    def _code_objects(self) -> None:
        self.bundle = packaging.code_bundle(self.project_root)
        self.fingerprints = packaging.CodeFingerprints(
            self.dag, packaging.project_files(self.project_root), self.functions
        )
        self.bundle_key = f"code/{self.dag.name}/bundle.zip"
        self.bundle_object = self._artifact_object("code", self.bundle_key, self.bundle.path)
        self.layers: dict[tuple[str, str], aws.lambda_.LayerVersion] = {}
        self.spark_objects: list[pulumi.Resource] = []
        needs_spark = any(isinstance(t.executor.config, SparkConfig) for t in self.dag.tasks)
        if needs_spark:
            runtime = packaging.runtime_zip()
            self.runtime_key = f"glacier/runtime-{runtime.sha256[:16]}.zip"
            self.entry_key = "glacier/glue_entry.py"
            self.spark_objects = [
                self._artifact_object("runtime", self.runtime_key, runtime.path),
                self._artifact_object("entry-script", self.entry_key, packaging.glue_entry_script()),
            ]

    def _artifact_object(self, label: str, key: str, path: Path) -> aws.s3.BucketObjectv2:
        return aws.s3.BucketObjectv2(
            self._child(label),
            bucket=self.artifacts_bucket.id,
            key=key,
            source=pulumi.FileAsset(str(path)),
            region=self.region,
            tags=self.tags,
            opts=self._opts(),
        )

    def _layer(self, config: LambdaConfig) -> aws.lambda_.LayerVersion:
        """One layer per architecture and Python version in use (polars, pydantic, glacier)."""
        key = (config.architecture, config.python_version)
        if key not in self.layers:
            spec = packaging.layer_spec(config.architecture, config.python_version)
            if self.options.build_layer:
                layer = packaging.build_layer(spec)
                packaging.check_function_size(self.dag.name, layer, self.bundle)
            s3_key = f"layers/{spec.path.name}"
            obj = self._artifact_object(
                f"layer-{config.architecture}-py{config.python_version}", s3_key, spec.path
            )
            self.layers[key] = aws.lambda_.LayerVersion(
                self._child("layer", config.architecture, f"py{config.python_version}"),
                layer_name=naming.physical(self.dag.name, "runtime", config.architecture, limit=140),
                s3_bucket=self.artifacts_bucket.id,
                s3_key=s3_key,
                source_code_hash=spec.key,
                compatible_runtimes=[f"python{config.python_version}"],
                compatible_architectures=[config.architecture],
                description=f"glacier runtime: {', '.join(spec.requirements)} ({spec.platform})",
                region=self.region,
                opts=self._opts(obj),
            )
        return self.layers[key]

    def _fingerprint(self, task: TaskNode) -> str:
        return self.fingerprints.of(task)

    # -- IAM and logs -----------------------------------------------------------------------
    def _log_group(self, task_label: str, name: str) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            self._child(task_label, "logs"),
            name=name,
            retention_in_days=self.options.log_retention_days,
            region=self.region,
            tags=self.tags,
            opts=self._opts(),
        )

    def _role(
        self, label: str, role_name: str, service: str, policy: pulumi.Input[str]
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        role = aws.iam.Role(
            self._child(label, "role"),
            name=role_name,
            assume_role_policy=self.account.apply(
                lambda a: iam.dumps(iam.assume_role_policy(service, self._arns(a)))
            ),
            tags=self.tags,
            opts=self._opts(),
        )
        role_policy = aws.iam.RolePolicy(
            self._child(label, "policy"),
            name=naming.physical(role_name, "policy", limit=128),
            role=role.id,
            policy=policy,
            opts=self._opts(),
        )
        return role, role_policy

    def _task_policy(
        self, task: TaskNode, log_groups: Sequence[str], artifacts: iam.ArtifactAccess | None = None
    ) -> pulumi.Output[str]:
        return self.account.apply(
            lambda account: iam.dumps(
                iam.task_policy(
                    self.dag, task, self._arns(account), log_groups=log_groups, artifacts=artifacts
                )
            )
        )

    # -- compute ----------------------------------------------------------------------------
    def _function(self, task: TaskNode, config: LambdaConfig | SparkConfig) -> aws.lambda_.Function:
        if not isinstance(config, LambdaConfig):
            raise DeploymentError(f"Task '{task.name}' has no Lambda configuration.", fix="use LambdaConfig.")
        function_name = naming.function_name(self.dag.name, task.name)
        log_group_name = naming.lambda_log_group(function_name)
        log_group = self._log_group(task.name, log_group_name)
        role, policy = self._role(
            task.name,
            naming.task_role_name(self.dag.name, task.name),
            "lambda.amazonaws.com",
            self._task_policy(task, [log_group_name]),
        )
        return aws.lambda_.Function(
            self._child(task.name, "function"),
            name=function_name,
            role=role.arn,
            runtime=f"python{config.python_version}",
            handler=LAMBDA_HANDLER,
            architectures=[config.architecture],
            memory_size=config.memory,
            timeout=config.timeout,
            ephemeral_storage=aws.lambda_.FunctionEphemeralStorageArgs(size=config.ephemeral_storage),
            s3_bucket=self.artifacts_bucket.id,
            s3_key=self.bundle_key,
            source_code_hash=self._fingerprint(task),
            layers=[self._layer(config).arn],
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"GLACIER_PIPELINE": self.dag.name}),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="Text", log_group=log_group_name),
            region=self.region,
            tags=self.tags,
            opts=self._opts(self.bundle_object, log_group, policy),
        )

    def _spark_artifacts(self, task: TaskNode) -> iam.ArtifactAccess:
        return iam.ArtifactAccess(
            bucket=self._artifacts_name(),
            read_keys=(self.bundle_key, self.runtime_key, self.entry_key),
            scratch_prefix=f"tmp/{self.dag.name}/{task.name}/",
        )

    def _s3(self, key: str) -> str:
        return f"s3://{self._artifacts_name()}/{key}"

    def _glue_job(self, task: TaskNode, config: SparkConfig) -> aws.glue.Job:
        job_name = naming.glue_job_name(self.dag.name, task.name)
        log_group_name = naming.glue_log_group(job_name)
        log_group = self._log_group(task.name, log_group_name)
        # Glue also writes a job's stdout/stderr to its two fixed groups.
        log_groups = [log_group_name, "/aws-glue/jobs/output", "/aws-glue/jobs/error"]
        access = self._spark_artifacts(task)
        role, policy = self._role(
            task.name,
            naming.task_role_name(self.dag.name, task.name),
            "glue.amazonaws.com",
            self._task_policy(task, log_groups, access),
        )
        return aws.glue.Job(
            self._child(task.name, "job"),
            name=job_name,
            role_arn=role.arn,
            glue_version=config.glue_version,
            worker_type=config.worker_type,
            number_of_workers=config.workers,
            timeout=config.timeout_minutes,
            max_retries=0,  # retries belong to the state machine, which sees every attempt
            command=aws.glue.JobCommandArgs(
                name="glueetl", script_location=self._s3(self.entry_key), python_version="3"
            ),
            default_arguments={
                "--job-language": "python",
                "--additional-python-modules": ",".join(packaging.pinned_requirements()),
                "--extra-py-files": f"{self._s3(self.bundle_key)},{self._s3(self.runtime_key)}",
                "--TempDir": self._s3(access.scratch_prefix or ""),
                "--enable-continuous-cloudwatch-log": "true",
                "--continuous-log-logGroup": log_group_name,
                "--GLACIER_PIPELINE": self.dag.name,
                # Changes only when this task's code does, so only this job is updated.
                "--glacier-code-fingerprint": self._fingerprint(task),
            },
            region=self.region,
            tags=self.tags,
            opts=self._opts(self.bundle_object, log_group, policy, *self.spark_objects),
        )

    def _emr_application(
        self, task: TaskNode, config: SparkConfig
    ) -> tuple[aws.emrserverless.Application, aws.iam.Role]:
        app_name = naming.emr_application_name(self.dag.name, task.name)
        log_group_name = naming.emr_log_group(app_name)
        log_group = self._log_group(task.name, log_group_name)
        role, policy = self._role(
            task.name,
            naming.task_role_name(self.dag.name, task.name),
            "emr-serverless.amazonaws.com",
            self._task_policy(task, [log_group_name], self._spark_artifacts(task)),
        )
        cpu, memory = WORKER_SIZE[config.worker_type]
        app = aws.emrserverless.Application(
            self._child(task.name, "application"),
            name=app_name,
            release_label=EMR_RELEASE,
            type="spark",
            architecture="ARM64",
            maximum_capacity=aws.emrserverless.ApplicationMaximumCapacityArgs(
                cpu=f"{cpu * (config.workers + 1)} vCPU", memory=f"{memory * (config.workers + 1)} GB"
            ),
            auto_stop_configuration=aws.emrserverless.ApplicationAutoStopConfigurationArgs(
                enabled=True, idle_timeout_minutes=15
            ),
            monitoring_configuration=aws.emrserverless.ApplicationMonitoringConfigurationArgs(
                cloudwatch_logging_configuration=aws.emrserverless.ApplicationMonitoringConfigurationCloudwatchLoggingConfigurationArgs(
                    enabled=True, log_group_name=log_group_name
                )
            ),
            region=self.region,
            tags={**self.tags, "glacier:code-fingerprint": self._fingerprint(task)[:32]},
            opts=self._opts(log_group, policy, *self.spark_objects),
        )
        return app, role

    def _emr_submit_parameters(self, config: SparkConfig) -> str:
        py_files = f"{self._s3(self.bundle_key)},{self._s3(self.runtime_key)}"
        return f"--conf spark.submit.pyFiles={py_files} --conf spark.executor.instances={config.workers}"

    # -- orchestration ----------------------------------------------------------------------
    def _targets(self, emr: Mapping[str, tuple[str, str]]) -> dict[str, asl.Target]:
        targets: dict[str, asl.Target] = {}
        for task in self.dag.tasks:
            config = task.executor.config
            if task.name in self.function_resources:
                targets[task.name] = asl.LambdaTarget(naming.function_name(self.dag.name, task.name))
            elif task.name in self.job_resources:
                targets[task.name] = asl.GlueTarget(naming.glue_job_name(self.dag.name, task.name))
            else:
                assert isinstance(config, SparkConfig)
                app_id, role_arn = emr[task.name]
                targets[task.name] = asl.EmrTarget(
                    application_id=app_id,
                    execution_role_arn=role_arn,
                    entry_point=self._s3(self.entry_key),
                    spark_submit_parameters=self._emr_submit_parameters(config),
                )
        return targets

    def _definition(self) -> pulumi.Input[str]:
        if not self.emr_resources:
            # Known at preview time: names are deterministic.
            return asl.dumps(asl.build_definition(self.dag, self._targets({}), partition=self.partition))
        tasks = sorted(self.emr_resources)
        ids = [self.emr_resources[t][0].id for t in tasks]
        roles = [self.emr_resources[t][1].arn for t in tasks]

        def render(values: list[Any]) -> str:
            emr = {t: (values[i], values[len(tasks) + i]) for i, t in enumerate(tasks)}
            return asl.dumps(asl.build_definition(self.dag, self._targets(emr), partition=self.partition))

        return pulumi.Output.all(*ids, *roles).apply(render)

    def _state_machine_policy(self) -> pulumi.Output[str]:
        functions = [naming.function_name(self.dag.name, t) for t in sorted(self.function_resources)]
        jobs = [naming.glue_job_name(self.dag.name, t) for t in sorted(self.job_resources)]
        tasks = sorted(self.emr_resources)
        ids = [self.emr_resources[t][0].id for t in tasks]
        roles = [self.emr_resources[t][1].arn for t in tasks]

        def render(values: list[Any]) -> str:
            account, rest = values[0], values[1:]
            emr = [iam.EmrJob(rest[i], rest[len(tasks) + i]) for i in range(len(tasks))]
            policy = iam.state_machine_policy(
                self._arns(account), functions=functions, glue_jobs=jobs, emr_jobs=emr
            )
            return iam.dumps(policy)

        return pulumi.Output.all(self.account, *ids, *roles).apply(render)

    def _state_machine(self) -> aws.sfn.StateMachine:
        name = naming.state_machine_name(self.dag.name)
        log_group = self._log_group("sfn", naming.state_machine_log_group(name))
        role, policy = self._role(
            "sfn",
            naming.state_machine_role_name(self.dag.name),
            "states.amazonaws.com",
            self._state_machine_policy(),
        )
        return aws.sfn.StateMachine(
            self._child("sfn"),
            name=name,
            type="STANDARD",
            role_arn=role.arn,
            definition=self._definition(),
            logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                level="ALL",
                include_execution_data=False,
                log_destination=log_group.arn.apply(lambda arn: f"{arn}:*"),
            ),
            region=self.region,
            tags=self.tags,
            opts=self._opts(policy, *self.function_resources.values(), *self.job_resources.values()),
        )

    def _schedule(self, expression: str) -> aws.scheduler.Schedule:
        sm_name = naming.state_machine_name(self.dag.name)
        role, policy = self._role(
            "schedule",
            naming.scheduler_role_name(self.dag.name),
            "scheduler.amazonaws.com",
            self.account.apply(lambda a: iam.dumps(iam.scheduler_policy(self._arns(a), sm_name))),
        )
        return aws.scheduler.Schedule(
            self._child("schedule"),
            name=naming.physical(self.dag.name, "schedule", limit=64),
            schedule_expression=expression,
            flexible_time_window=aws.scheduler.ScheduleFlexibleTimeWindowArgs(mode="OFF"),
            target=aws.scheduler.ScheduleTargetArgs(
                arn=self.state_machine.arn, role_arn=role.arn, input=json.dumps({"trigger": "schedule"})
            ),
            region=self.region,
            opts=self._opts(policy),
        )


@dataclass(frozen=True)
class DeployTarget:
    """A pipeline to deploy: its DAG, its task functions, and its project's root folder."""

    dag: PipelineDAG
    functions: Mapping[str, Callable[..., Any]]
    project_root: Path


def deploy_pipelines(
    targets: Sequence[DeployTarget], *, options: DeployOptions | None = None
) -> list[PipelineDeployment]:
    """One component per pipeline; a managed bucket shared by several is declared once."""
    names = [t.dag.name for t in targets]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise DeploymentError(
            f"Two pipelines to deploy are named {', '.join(map(repr, duplicated))}.",
            fix="give each pipeline a unique name (Pipeline(name=...) or .with_name(...)).",
        )
    for target in targets:
        _check_cloud_runnable(target.dag)
    registry: dict[str, pulumi.Resource] = {}
    return [
        PipelineDeployment(
            t.dag.name,
            t.dag,
            project_root=t.project_root,
            functions=t.functions,
            options=options,
            bucket_registry=registry,
        )
        for t in targets
    ]


def _check_cloud_runnable(dag: PipelineDAG) -> None:
    """The cloud runs every task through the Polars core (Lambda, or Polars on a Glue / EMR
    job's driver); a task written against the pyspark API runs only on local Spark."""
    for task in dag.tasks:
        if task.dataframe_api == "pyspark":
            raise DeploymentError(
                f"Task '{task.name}' of pipeline '{dag.name}' is written against pyspark.sql.DataFrame, "
                "which runs on local Spark only; deployed Spark tasks run with Polars.",
                fix=f"annotate '{task.name}' with Polars types (pl.LazyFrame) to deploy it, or keep the "
                "pipeline local.",
            )
