"""What every part of the pipeline component shares: the pipeline, where it deploys, child
names and options, and the two resources most parts need (a log group, a role)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from glacier.dag.model import PipelineDAG
from glacier.deploy import iam, naming
from glacier.deploy.options import DeployOptions


class ComponentBase(pulumi.ComponentResource):
    """The state and helpers of ``PipelineDeployment``, whose resource kinds are declared by
    the layers built on this one (artifacts, compute, orchestration)."""

    dag: PipelineDAG
    functions: Mapping[str, Callable[..., Any]]
    project_root: Path
    options: DeployOptions
    region: str
    partition: str
    tags: dict[str, str]
    account: pulumi.Output[str]

    def _child(self, *parts: str) -> str:
        return naming.logical(self._name, *parts)

    def _opts(self, *depends_on: pulumi.Resource) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, depends_on=list(depends_on) or None)

    def _arns(self, account: str) -> iam.Arns:
        return iam.Arns(partition=self.partition, region=self.region, account=account)

    def _log_group(self, label: str, name: str) -> aws.cloudwatch.LogGroup:
        return aws.cloudwatch.LogGroup(
            self._child(label, "logs"),
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
