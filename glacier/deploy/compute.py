"""The pipeline component's compute: a Lambda function per serverless / local task and a Glue
job per spark task, each with its own role and log group(s); the pipeline's EMR Serverless
tasks share one application, each job run with its own role."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType

import pulumi
import pulumi_aws as aws

from glacier.config import WORKER_SIZES, LambdaConfig, SparkConfig
from glacier.dag.model import TaskNode
from glacier.deploy import asl, iam, job_packages, naming
from glacier.deploy.artifacts import ArtifactsLayer
from glacier.deploy.timeouts import lambda_timeout
from glacier.errors import DeploymentError
from glacier.runtime.event import CatalogTarget

LAMBDA_HANDLER = "glacier.runtime.lambda_handler.handler"
EMR_RELEASE = "emr-7.9.0"


class ComputeLayer(ArtifactsLayer):
    function_resources: dict[str, aws.lambda_.Function]
    job_resources: dict[str, aws.glue.Job]
    # EMR task -> (the pipeline's one application, the task's execution role)
    emr_resources: dict[str, tuple[aws.emrserverless.Application, aws.iam.Role]]
    # Dataset id -> the Glue table a directory output's task keeps current (the component's
    # catalog sets it; none without a catalog).
    catalog_targets: Mapping[str, CatalogTarget] = MappingProxyType({})

    def _compute(self) -> None:
        """One function, job or application per task, by its executor's configuration."""
        self.function_resources = {}
        self.job_resources = {}
        self.emr_resources = {}
        emr_tasks = self._emr_tasks()
        if emr_tasks:
            app, log_group_name = self._emr_application(emr_tasks)
            self.emr_resources = {t.name: (app, self._emr_role(t, log_group_name)) for t in emr_tasks}
        for task in self.dag.tasks:
            config = task.executor.config
            if task.name in self.emr_resources:
                continue
            if isinstance(config, SparkConfig):
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
        """A Spark role reads its code bundle, its entry script and its job package only."""
        shared = self.program_artifacts
        return iam.ArtifactAccess(
            bucket=shared.bucket_name(account),
            read_keys=(self.bundle_key, shared.entry_key, shared.package(task).s3_key),
            scratch_prefix=self._scratch_prefix(task),
        )

    # -- Glue ---------------------------------------------------------------------------------

    def _glue_arguments(self, task: TaskNode, log_prefix: str) -> pulumi.Output[dict[str, str]]:
        shared = self.program_artifacts
        package = shared.package(task)

        def arguments(account: str) -> dict[str, str]:
            return {
                "--job-language": "python",
                # The job's packages from the artifacts bucket only (no PyPI at job start).
                **job_packages.glue_job_arguments(shared.s3(account, package.s3_key)),
                "--extra-py-files": shared.s3(account, self.bundle_key),
                "--TempDir": shared.s3(account, self._scratch_prefix(task)),
                # Workers are the most Glue may scale out to; it releases idle executors.
                "--enable-auto-scaling": "true",
                # Glue 5 logs every job in real time (its <= 4.0 continuous-logging flags are
                # gone); this prefix puts them in the job's own <prefix>/output and /error.
                "--custom-logGroup-prefix": log_prefix,
                "--GLACIER_PIPELINE": self.dag.name,
                # Changes only when this task's code does, so only this job is updated.
                "--glacier-code-fingerprint": self._fingerprint(task),
            }

        return self.account.apply(arguments)

    def _glue_job(self, task: TaskNode, config: SparkConfig) -> aws.glue.Job:
        job_name = naming.glue_job_name(self.dag.name, task.name)
        output_group, error_group = naming.glue_log_groups(job_name)
        logs = [self._log_group(task.name, output_group), self._log_group(f"{task.name}-error", error_group)]
        role, policy = self._task_role(task, "glue.amazonaws.com", [output_group, error_group], spark=True)
        return aws.glue.Job(
            self._child(task.name, "job"),
            name=job_name,
            role_arn=role.arn,
            glue_version=config.glue_version,
            worker_type=config.worker_type,
            number_of_workers=config.workers,
            execution_class=config.execution_class,
            timeout=config.timeout_minutes,
            max_retries=0,  # retries belong to the state machine, which sees every attempt
            command=aws.glue.JobCommandArgs(
                name="glueetl",
                script_location=self._s3(self.program_artifacts.entry_key),
                python_version="3",
            ),
            default_arguments=self._glue_arguments(task, naming.glue_log_group(job_name)),
            region=self.region,
            tags=self.tags,
            opts=self._opts(self.bundle_object, *logs, policy, *self.program_artifacts.spark_objects),
        )

    # -- EMR Serverless -------------------------------------------------------------------------

    def _emr_tasks(self) -> list[TaskNode]:
        return [
            t
            for t in self.dag.tasks
            if isinstance(t.executor.config, SparkConfig) and t.executor.config.engine == "emr-serverless"
        ]

    def _emr_application(self, tasks: Sequence[TaskNode]) -> tuple[aws.emrserverless.Application, str]:
        """The pipeline's one application (every EMR task is a job run on it, each with its own
        role), sized so all of them may run at once; it stops when idle, so costs nothing then."""
        app_name = naming.emr_application_name(self.dag.name)
        log_group_name = naming.emr_log_group(app_name)
        log_group = self._log_group("emr", log_group_name)
        image = self._emr_image(tasks)
        cpu = memory = 0
        for task in tasks:
            config = task.executor.config
            assert isinstance(config, SparkConfig)
            size = WORKER_SIZES[config.worker_type]
            cpu += size.vcpu * (config.workers + 1)  # the workers and the driver
            memory += size.memory_gb * (config.workers + 1)
        app = aws.emrserverless.Application(
            self._child("emr"),
            name=app_name,
            release_label=EMR_RELEASE,
            type="spark",
            architecture=job_packages.EMR_ARCHITECTURE,
            image_configuration=aws.emrserverless.ApplicationImageConfigurationArgs(image_uri=image),
            maximum_capacity=aws.emrserverless.ApplicationMaximumCapacityArgs(
                cpu=f"{cpu} vCPU", memory=f"{memory} GB"
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
            tags=self.tags,
            opts=self._opts(log_group, *self.program_artifacts.spark_objects),
        )
        return app, log_group_name

    def _emr_image(self, tasks: Sequence[TaskNode]) -> str:
        """The application's one image: the stock one has Python 3.9 only, and the runtime
        and its packages are CPython 3.11, so every EMR task names the same custom image."""
        images: dict[str, list[str]] = {}
        for task in tasks:
            config = task.executor.config
            assert isinstance(config, SparkConfig)
            images.setdefault(config.emr_image or "", []).append(task.name)
        if "" in images:
            names = ", ".join(f"'{t}'" for t in images[""])
            raise DeploymentError(
                f"Task(s) {names} of pipeline '{self.dag.name}' run on EMR Serverless, whose stock "
                f"{EMR_RELEASE} image has Python 3.9 only; glacier's runtime and the job package need "
                f"CPython {job_packages.EMR_PYTHON}.",
                fix=f"build an {job_packages.EMR_ARCHITECTURE.lower()} image FROM "
                f"public.ecr.aws/emr-serverless/spark/{EMR_RELEASE}:latest that "
                f"runs 'dnf install -y python{job_packages.EMR_PYTHON}' (USER root, then USER "
                "hadoop:hadoop), push it to ECR with a repository policy letting "
                "emr-serverless.amazonaws.com pull it, and pass SparkConfig(engine='emr-serverless', "
                "emr_image='<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>'); or run "
                "the task on Glue (SparkConfig(), Python 3.11).",
            )
        if len(images) > 1:
            listed = "; ".join(f"{', '.join(names)}: {image}" for image, names in sorted(images.items()))
            raise DeploymentError(
                f"Pipeline '{self.dag.name}' runs its EMR Serverless tasks on one application, with "
                f"one image, but they name {len(images)} images ({listed}).",
                fix="give every EMR Serverless task of the pipeline the same emr_image.",
            )
        return next(iter(images))

    def _emr_role(self, task: TaskNode, log_group_name: str) -> aws.iam.Role:
        role, _policy = self._task_role(task, "emr-serverless.amazonaws.com", [log_group_name], spark=True)
        return role

    def _emr_target(self, task: TaskNode, account: str, application_id: str, role_arn: str) -> asl.EmrTarget:
        config = task.executor.config
        assert isinstance(config, SparkConfig)
        shared = self.program_artifacts
        return asl.EmrTarget(
            application_id=application_id,
            execution_role_arn=role_arn,
            entry_point=shared.s3(account, shared.entry_key),
            spark_submit_parameters=self._emr_submit_parameters(task, account, config),
            log_group=naming.emr_log_group(naming.emr_application_name(self.dag.name)),
        )

    def _emr_submit_parameters(self, task: TaskNode, account: str, config: SparkConfig) -> str:
        """The job run's Spark properties: its Python environment (the archive), its code, its
        executors' size from the worker type, and the workers as dynamic allocation's maximum."""
        shared = self.program_artifacts
        archive = shared.s3(account, shared.package(task).s3_key)
        size = WORKER_SIZES[config.worker_type]
        # EMR Serverless adds ~10% memory overhead to each executor: leave room for it.
        memory = f"{max(1, int(size.memory_gb * 0.875))}g"
        conf = {
            **job_packages.emr_spark_conf(archive),
            "spark.submit.pyFiles": shared.s3(account, self.bundle_key),
            "spark.driver.cores": str(size.vcpu),
            "spark.driver.memory": memory,
            "spark.executor.cores": str(size.vcpu),
            "spark.executor.memory": memory,
            "spark.dynamicAllocation.maxExecutors": str(config.workers),
        }
        return " ".join(f"--conf {key}={value}" for key, value in conf.items())
