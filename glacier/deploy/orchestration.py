"""The pipeline component's orchestration: the Step Functions state machine that runs every
task after its inputs exist (with its role and log group), and for a partitioned pipeline its
backfill state machine (a Distributed Map of one-partition child executions,
``glacier.deploy.backfill``); what starts them is in ``glacier.deploy.triggers``."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from glacier.dag.partitions import partitioned_datasets
from glacier.deploy import asl, backfill, iam, naming
from glacier.deploy.compute import ComputeLayer

# EMR Serverless task -> (application id, execution role ARN), known once they are created.
EmrIds = Mapping[str, tuple[str, str]]


class OrchestrationLayer(ComputeLayer):
    state_machine: aws.sfn.StateMachine
    backfill_state_machine: aws.sfn.StateMachine | None

    def _orchestration(self, data_buckets: list[pulumi.Resource]) -> None:
        self.state_machine = self._state_machine(data_buckets)

    def _targets(self, account: str, emr: EmrIds) -> dict[str, asl.Target]:
        targets: dict[str, asl.Target] = {}
        for task in self.dag.tasks:
            if task.name in self.function_resources:
                targets[task.name] = asl.LambdaTarget(naming.function_name(self.dag.name, task.name))
            elif task.name in self.job_resources:
                targets[task.name] = asl.GlueTarget(naming.glue_job_name(self.dag.name, task.name))
            else:
                targets[task.name] = self._emr_target(task, account, *emr[task.name])
        return targets

    def _with_emr_ids(self, render: Callable[[str, EmrIds], str]) -> pulumi.Output[str]:
        """``render(account, emr ids)`` once the account and every EMR application's id and
        role ARN are known (they are created by AWS, unlike every other name here)."""
        tasks = sorted(self.emr_resources)
        ids = [self.emr_resources[t][0].id for t in tasks]
        roles = [self.emr_resources[t][1].arn for t in tasks]

        def apply(values: list[Any]) -> str:
            account, rest = values[0], values[1:]
            return render(account, {t: (rest[i], rest[len(tasks) + i]) for i, t in enumerate(tasks)})

        return pulumi.Output.all(self.account, *ids, *roles).apply(apply)

    def _definition(self) -> pulumi.Output[str]:
        # Known at preview time unless the pipeline has EMR tasks: names are deterministic.
        return self._with_emr_ids(
            lambda account, emr: asl.dumps(
                asl.build_definition(
                    self.dag,
                    self._targets(account, emr),
                    partition=self.partition,
                    catalog=self.catalog_targets,
                )
            )
        )

    def _state_machine_policy(self) -> pulumi.Output[str]:
        functions = [naming.function_name(self.dag.name, t) for t in sorted(self.function_resources)]
        jobs = [naming.glue_job_name(self.dag.name, t) for t in sorted(self.job_resources)]

        def render(account: str, emr: EmrIds) -> str:
            emr_jobs = [iam.EmrJob(app_id, role_arn) for app_id, role_arn in emr.values()]
            policy = iam.state_machine_policy(
                self._arns(account), functions=functions, glue_jobs=jobs, emr_jobs=emr_jobs
            )
            return iam.dumps(policy)

        return self._with_emr_ids(render)

    def _state_machine(self, data_buckets: list[pulumi.Resource]) -> aws.sfn.StateMachine:
        name = naming.state_machine_name(self.dag.name)
        log_group = self._log_group("sfn", naming.state_machine_log_group(name))
        role, policy = self._role(
            "sfn",
            naming.state_machine_role_name(self.dag.name),
            "states.amazonaws.com",
            self._state_machine_policy(),
        )
        # A run may start once the data buckets exist, as well as every function and job.
        depends = [policy, *self.function_resources.values(), *self.job_resources.values(), *data_buckets]
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
            opts=self._opts(*depends),
        )

    def _backfill_state_machine(self, data_buckets: list[pulumi.Resource]) -> aws.sfn.StateMachine | None:
        """A partitioned pipeline's backfill: one execution, a Distributed Map whose child
        executions each run one partition through the pipeline's own task states; its role may
        run those tasks, start and watch its own children and read the item lists
        (``backfills/`` in the artifacts bucket, named by the state machine's tag)."""
        if not partitioned_datasets(self.dag):
            return None
        name = backfill.backfill_state_machine_name(self.dag.name)
        options = self.options
        log_group = self._log_group("backfill", naming.state_machine_log_group(name))

        def merge(values: list[Any]) -> str:
            tasks, account, bucket = json.loads(values[0]), values[1], values[2]
            own = f"arn:{self.partition}:states:{self.region}:{account}:stateMachine:{name}"
            extra = backfill.backfill_policy(own, f"arn:{self.partition}:s3:::{bucket}")
            return iam.dumps({**tasks, "Statement": [*tasks["Statement"], *extra["Statement"]]})

        role, policy = self._role(
            "backfill",
            naming.physical(self.dag.name, "backfill", "role", limit=naming.ROLE_NAME_MAX),
            "states.amazonaws.com",
            pulumi.Output.all(self._state_machine_policy(), self.account, self.artifacts_bucket.bucket).apply(
                merge
            ),
        )
        definition = self._with_emr_ids(
            lambda account, emr: asl.dumps(
                backfill.build_backfill_definition(
                    self.dag,
                    self._targets(account, emr),
                    max_concurrency=options.backfill_max_concurrency,
                    tolerated_failures=options.backfill_tolerated_failures,
                    tolerated_failure_percent=options.backfill_tolerated_failure_percent,
                    items_from_s3=True,
                    partition=self.partition,
                    catalog=self.catalog_targets,
                )
            )
        )
        depends = [policy, *self.function_resources.values(), *self.job_resources.values(), *data_buckets]
        return aws.sfn.StateMachine(
            self._child("backfill"),
            name=name,
            type="STANDARD",
            role_arn=role.arn,
            definition=definition,
            logging_configuration=aws.sfn.StateMachineLoggingConfigurationArgs(
                level="ERROR",
                include_execution_data=False,
                log_destination=log_group.arn.apply(lambda arn: f"{arn}:*"),
            ),
            region=self.region,
            tags={**self.tags, backfill.ITEMS_BUCKET_TAG: self.artifacts_bucket.bucket},
            opts=self._opts(*depends),
        )
