"""The pipeline component's code artifacts: its artifacts bucket, the code bundle, the
Lambda layer per architecture and Python version, and the Spark runtime files."""

from __future__ import annotations

from pathlib import Path

import pulumi
import pulumi_aws as aws

from glacier.config import LambdaConfig, SparkConfig
from glacier.dag.model import TaskNode
from glacier.deploy import naming, packaging
from glacier.deploy.base import ComponentBase
from glacier.deploy.buckets import private_bucket


class ArtifactsLayer(ComponentBase):
    artifacts_bucket: aws.s3.Bucket
    bundle: packaging.Artifact
    fingerprints: packaging.CodeFingerprints
    bundle_key: str
    bundle_object: aws.s3.BucketObjectv2
    layers: dict[tuple[str, str], aws.lambda_.LayerVersion]
    spark_objects: list[pulumi.Resource]
    runtime_key: str
    entry_key: str

    def _artifacts_name(self) -> str:
        return naming.artifacts_bucket_name(self.dag.name, self.options.artifacts_prefix)

    def _artifacts(self) -> None:
        self.artifacts_bucket = private_bucket(
            self, self._child("artifacts"), self._artifacts_name(), region=self.region, tags=self.tags
        )
        self.bundle = packaging.code_bundle(self.project_root)
        self.fingerprints = packaging.CodeFingerprints(
            self.dag, packaging.project_files(self.project_root), self.functions
        )
        self.bundle_key = f"code/{self.dag.name}/bundle.zip"
        self.bundle_object = self._artifact_object("code", self.bundle_key, self.bundle.path)
        self.layers = {}
        self.spark_objects = []
        if any(isinstance(t.executor.config, SparkConfig) for t in self.dag.tasks):
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

    def _s3(self, key: str) -> str:
        return f"s3://{self._artifacts_name()}/{key}"
