"""The pipeline component's code artifacts: its code bundle, in the program's artifacts
bucket (``glacier.deploy.program_artifacts``), whose layers and Spark runtime files every
pipeline of the region shares."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from glacier.config import LambdaConfig, SparkConfig
from glacier.dag.model import TaskNode
from glacier.deploy import packaging
from glacier.deploy.base import ComponentBase
from glacier.deploy.program_artifacts import ProgramArtifacts, artifacts_name
from glacier.errors import DeploymentError


class ArtifactsLayer(ComponentBase):
    program_artifacts: ProgramArtifacts
    artifacts_bucket: aws.s3.Bucket
    bundle: packaging.Artifact
    fingerprints: packaging.CodeFingerprints
    bundle_key: str
    bundle_object: aws.s3.BucketObjectv2

    def _artifacts(self, artifacts: ProgramArtifacts | None) -> None:
        self.program_artifacts = self._checked_artifacts(artifacts)
        self.artifacts_bucket = self.program_artifacts.bucket
        self.bundle = packaging.code_bundle(self.project_root)
        self.fingerprints = packaging.CodeFingerprints(
            self.dag, packaging.project_files(self.project_root), self.functions
        )
        self.bundle_key = f"code/{self.dag.name}/bundle.zip"
        self.bundle_object = self.program_artifacts.object(
            self._child("code"), self.bundle_key, self.bundle.path, parent=self
        )

    def _checked_artifacts(self, artifacts: ProgramArtifacts | None) -> ProgramArtifacts:
        if artifacts is None or artifacts.region != self.region:
            where = "no artifacts" if artifacts is None else f"the artifacts of {artifacts.region}"
            raise DeploymentError(
                f"Pipeline '{self.dag.name}' deploys to {self.region} but was given {where}.",
                fix="declare glacier.deploy.program_artifacts.ProgramArtifacts("
                f"'{artifacts_name(self.region)}', ...) for its region once and pass it as "
                "PipelineDeploymentArgs(artifacts=...).",
            )
        if not artifacts.spark_objects and any(
            isinstance(t.executor.config, SparkConfig) for t in self.dag.tasks
        ):
            raise DeploymentError(
                f"Pipeline '{self.dag.name}' has Spark tasks, but its artifacts hold no Spark runtime files.",
                fix="build the artifacts with ProgramArtifactsArgs.for_pipelines(...) of every "
                "deployed pipeline (or spark=True).",
            )
        return artifacts

    def _layer(self, config: LambdaConfig) -> aws.lambda_.LayerVersion:
        key = (config.architecture, config.python_version)
        layer = self.program_artifacts.layers.get(key)
        if layer is None:
            raise DeploymentError(
                f"Pipeline '{self.dag.name}' runs Lambda tasks on {key[0]} Python {key[1]}, a layer "
                "its artifacts do not declare.",
                fix="build the artifacts with ProgramArtifactsArgs.for_pipelines(...) of every "
                "deployed pipeline.",
            )
        built = self.program_artifacts.built_layers.get(key)
        if built is not None:
            packaging.check_function_size(self.dag.name, built, self.bundle)
        return layer

    def _fingerprint(self, task: TaskNode) -> str:
        return self.fingerprints.of(task)

    def _s3(self, key: str) -> pulumi.Output[str]:
        return self.account.apply(lambda account: self.program_artifacts.s3(account, key))
