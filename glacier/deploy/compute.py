"""The pipeline component's compute: a Lambda function per serverless / local task, a Glue
job or an EMR Serverless application per spark task, each with its own role and log group."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import pulumi
import pulumi_aws as aws

from glacier.config import WORKER_SIZES, LambdaConfig, SparkConfig
from glacier.dag.model import TaskNode
from glacier.deploy import iam, naming, packaging
from glacier.deploy.artifacts import ArtifactsLayer
from glacier.deploy.timeouts import lambda_timeout
from glacier.errors import DeploymentError
from glacier.runtime.event import CatalogTarget

LAMBDA_HANDLER = "glacier.runtime.lambda_handler.handler"
EMR_RELEASE = "emr-7.9.0"


class ComputeLayer(ArtifactsLayer):
    function_resources: dict[str, aws.lambda_.Function]
    job_resources: dict[str, aws.glue.Job]
    emr_resources: dict[str, tuple[aws.emrserverless.Application, aws.iam.Role]]
    # Dataset id -> the Glue table a directory output's task keeps current (the component's
    # catalog sets it; none without a catalog).
    catalog_targets: Mapping[str, CatalogTarget] = MappingProxyType({})

    def _compute(self) -> None:
        """One function, job or application per task, by its executor's configuration."""
        self.function_resources = {}
        self.job_resources = {}
        self.emr_resources = {}
        for task in self.dag.tasks:
            config = task.executor.config
            if isinstance(config, SparkConfig) and config.engine == "emr-serverless":
                self.emr_resources[task.name] = self._emr_application(task, config)
            elif isinstance(config, SparkConfig):
                self.job_resources[task.name] = self._glue_job(task, config)
            else:
                self.function_resources[task.name] = self._function(task, config)

    def _task_role(
        self, task: TaskNode, service: str, log_groups: Sequence[str], *, spark: bool = False
    ) -> tuple[aws.iam.Role, aws.iam.RolePolicy]:
        """The task's own role: it may read only its inputs and write only its output (and,
        on Spark, read its code and runtime files and use its scratch prefix)."""
        policy = self.account.apply(
            lambda account: iam.dumps(
                iam.task_policy(
                    self.dag,
                    task,
                    self._arns(account),
                    log_groups=log_groups,
                    artifacts=self._spark_artifacts(task, account) if spark else None,
                    catalog=self.catalog_targets.get(task.output),
                )
            )
        )
        return self._role(task.name, naming.task_role_name(self.dag.name, task.name), service, policy)

    def _function(self, task: TaskNode, config: LambdaConfig | SparkConfig) -> aws.lambda_.Function:
        if not isinstance(config, LambdaConfig):
            raise DeploymentError(f"Task '{task.name}' has no Lambda configuration.", fix="use LambdaConfig.")
        function_name = naming.function_name(self.dag.name, task.name)
        log_group_name = naming.lambda_log_group(function_name)
        log_group = self._log_group(task.name, log_group_name)
        role, policy = self._task_role(task, "lambda.amazonaws.com", [log_group_name])
        return aws.lambda_.Function(
            self._child(task.name, "function"),
            name=function_name,
            role=role.arn,
            runtime=f"python{config.python_version}",
            handler=LAMBDA_HANDLER,
            architectures=[config.architecture],
            memory_size=config.memory,
            timeout=lambda_timeout(task, config),
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

    def _scratch_prefix(self, task: TaskNode) -> str:
        return f"tmp/{self.dag.name}/{task.name}/"

    def _spark_artifacts(self, task: TaskNode, account: str) -> iam.ArtifactAccess:
        shared = self.program_artifacts
        return iam.ArtifactAccess(
            bucket=shared.bucket_name(account),
            read_keys=(self.bundle_key, shared.runtime_key, shared.entry_key),
            scratch_prefix=self._scratch_prefix(task),
        )

    def _glue_arguments(self, task: TaskNode, log_group_name: str) -> pulumi.Output[dict[str, str]]:
        shared = self.program_artifacts

        def arguments(account: str) -> dict[str, str]:
            return {
                "--job-language": "python",
                "--additional-python-modules": ",".join(packaging.pinned_requirements()),
                "--extra-py-files": self._py_files(account),
                "--TempDir": shared.s3(account, self._scratch_prefix(task)),
                "--enable-continuous-cloudwatch-log": "true",
                "--continuous-log-logGroup": log_group_name,
                "--GLACIER_PIPELINE": self.dag.name,
                # Changes only when this task's code does, so only this job is updated.
                "--glacier-code-fingerprint": self._fingerprint(task),
            }

        return self.account.apply(arguments)

    def _py_files(self, account: str) -> str:
        shared = self.program_artifacts
        return f"{shared.s3(account, self.bundle_key)},{shared.s3(account, shared.runtime_key)}"

    def _glue_job(self, task: TaskNode, config: SparkConfig) -> aws.glue.Job:
        job_name = naming.glue_job_name(self.dag.name, task.name)
        log_group_name = naming.glue_log_group(job_name)
        log_group = self._log_group(task.name, log_group_name)
        # Glue also writes a job's stdout/stderr to its two fixed groups.
        log_groups = [log_group_name, "/aws-glue/jobs/output", "/aws-glue/jobs/error"]
        role, policy = self._task_role(task, "glue.amazonaws.com", log_groups, spark=True)
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
                name="glueetl",
                script_location=self._s3(self.program_artifacts.entry_key),
                python_version="3",
            ),
            default_arguments=self._glue_arguments(task, log_group_name),
            region=self.region,
            tags=self.tags,
            opts=self._opts(self.bundle_object, log_group, policy, *self.program_artifacts.spark_objects),
        )

    def _emr_application(
        self, task: TaskNode, config: SparkConfig
    ) -> tuple[aws.emrserverless.Application, aws.iam.Role]:
        app_name = naming.emr_application_name(self.dag.name, task.name)
        log_group_name = naming.emr_log_group(app_name)
        log_group = self._log_group(task.name, log_group_name)
        role, policy = self._task_role(task, "emr-serverless.amazonaws.com", [log_group_name], spark=True)
        size = WORKER_SIZES[config.worker_type]
        nodes = config.workers + 1  # the workers and the driver
        app = aws.emrserverless.Application(
            self._child(task.name, "application"),
            name=app_name,
            release_label=EMR_RELEASE,
            type="spark",
            architecture="ARM64",
            maximum_capacity=aws.emrserverless.ApplicationMaximumCapacityArgs(
                cpu=f"{size.vcpu * nodes} vCPU", memory=f"{size.memory_gb * nodes} GB"
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
            opts=self._opts(log_group, policy, *self.program_artifacts.spark_objects),
        )
        return app, role

    def _emr_submit_parameters(self, account: str, config: SparkConfig) -> str:
        py_files = self._py_files(account)
        return f"--conf spark.submit.pyFiles={py_files} --conf spark.executor.instances={config.workers}"
