"""``glacier plan``: the Pulumi program run offline under Pulumi's mocks.

Every resource the program declares is recorded as the engine receives it: type token,
logical name, parent, inputs, and the options the engine acts on at deletion and ordering
(``retainOnDelete``, the URNs it depends on). Inputs are already resolved: the mocks run in
update mode, so values computed from other resources are known. The mocks answer deterministically,
so the same program gives the same plan, byte for byte.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc, settings
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from glacier.dag.contract import PipelineLoader
from glacier.deploy.naming import dns_suffix, partition_for
from glacier.deploy.options import DEFAULT_REGION, DeployOptions
from glacier.deploy.program import ProgramConfig, declare

ACCOUNT = "123456789012"
PROJECT = "glacier"
STACK = "plan"
STACK_TYPE = "pulumi:pulumi:Stack"


@dataclass
class Recorded:
    type: str
    name: str
    parent: str | None
    inputs: dict[str, Any]
    custom: bool
    urn: str = ""
    # Earlier identities the resource answers to (see _alias).
    aliases: list[dict[str, str]] = field(default_factory=list)
    # pulumi destroy (or dropping it from the program) leaves it in the account.
    retain_on_delete: bool = False
    depends_on: list[str] = field(default_factory=list)  # URNs

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "name": self.name, "parent": self.parent, "inputs": self.inputs}


class GlacierMocks(pulumi.runtime.Mocks):
    """Answers like AWS would, with fixed ids and ARNs built from the declared names."""

    def __init__(self, region: str = "us-east-1") -> None:
        self.region = region
        self._captured = threading.local()  # the engine registers resources from several threads
        self._declared_region: str | None = None  # global resources (IAM) share its partition

    @property
    def last_inputs(self) -> dict[str, Any]:
        """The inputs of the resource this thread registered last, as new_resource got them."""
        inputs: dict[str, Any] = self._captured.inputs
        return inputs

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        self._captured.inputs = inputs  # what the engine received: the plan records these
        name = inputs.get("name") or inputs.get("bucket") or inputs.get("layerName") or args.name
        if inputs.get("region") and self._declared_region is None:
            self._declared_region = str(inputs["region"])
        region = str(inputs.get("region") or self._declared_region or self.region)
        arn = _arn(args.typ, str(name), region)
        resource_id = str(inputs["bucket"]) if args.typ == "aws:s3/bucket:Bucket" else f"{args.name}-id"
        outputs = {**inputs, "id": resource_id}
        if arn:
            outputs["arn"] = arn
        if args.typ == "aws:s3/bucket:Bucket":
            outputs["bucketRegionalDomainName"] = f"{name}.s3.{region}.{dns_suffix(region)}"
        return resource_id, outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            partition = partition_for(self._declared_region or self.region)
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:{partition}:iam::{ACCOUNT}:user/glacier-plan",
                "id": ACCOUNT,
                "userId": "GLACIERPLAN",
            }
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": self.region, "region": self.region, "id": self.region}
        return {}


def _arn(token: str, name: str, region: str) -> str | None:
    p = partition_for(region)
    prefixes = {
        "aws:iam/role:Role": f"arn:{p}:iam::{ACCOUNT}:role/{name}",
        "aws:s3/bucket:Bucket": f"arn:{p}:s3:::{name}",
        "aws:lambda/function:Function": f"arn:{p}:lambda:{region}:{ACCOUNT}:function:{name}",
        "aws:lambda/layerVersion:LayerVersion": f"arn:{p}:lambda:{region}:{ACCOUNT}:layer:{name}:1",
        "aws:glue/job:Job": f"arn:{p}:glue:{region}:{ACCOUNT}:job/{name}",
        "aws:sfn/stateMachine:StateMachine": f"arn:{p}:states:{region}:{ACCOUNT}:stateMachine:{name}",
        "aws:cloudwatch/logGroup:LogGroup": f"arn:{p}:logs:{region}:{ACCOUNT}:log-group:{name}",
        "aws:emrserverless/application:Application": (
            f"arn:{p}:emr-serverless:{region}:{ACCOUNT}:/applications/{name}"
        ),
        "aws:scheduler/schedule:Schedule": f"arn:{p}:scheduler:{region}:{ACCOUNT}:schedule/default/{name}",
        "aws:sns/topic:Topic": f"arn:{p}:sns:{region}:{ACCOUNT}:{name}",
        "aws:cloudwatch/eventRule:EventRule": f"arn:{p}:events:{region}:{ACCOUNT}:rule/{name}",
        "aws:cloudwatch/metricAlarm:MetricAlarm": f"arn:{p}:cloudwatch:{region}:{ACCOUNT}:alarm:{name}",
    }
    return prefixes.get(token)


class _RecordingMonitor(pulumi_mocks.MockMonitor):
    """The mock engine, also noting each resource's parent and each component's outputs.
    (Inputs are those ``new_resource`` received, called from within ``RegisterResource``.)"""

    def __init__(self, mocks: GlacierMocks) -> None:
        super().__init__(mocks)
        self.glacier_mocks = mocks
        self.recorded: list[Recorded] = []
        self.names: dict[str, str] = {}
        self.outputs: dict[str, Any] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URNs as the engine builds them: a resource's type is prefixed by its parent's
        qualified type, except under the root stack (the mocks would prefix that too)."""
        qualified = parent.split("::")[2] if parent else ""
        if qualified and qualified != STACK_TYPE:
            type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != STACK_TYPE:
            self.names[response.urn] = request.name
            inputs = self.glacier_mocks.last_inputs  # as captured in new_resource
            self.recorded.append(
                Recorded(
                    type=request.type,
                    name=request.name,
                    parent=self.names.get(request.parent),
                    inputs=_plain(inputs),
                    custom=bool(request.custom),
                    urn=response.urn,
                    aliases=[_alias(a) for a in request.aliases],
                    retain_on_delete=bool(request.retainOnDelete),
                    depends_on=list(request.dependencies),
                )
            )
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn in self.names:
            self.outputs[self.names[request.urn]] = _plain(rpc.deserialize_properties(request.outputs))
        return super().RegisterResourceOutputs(request)


def _alias(alias: Any) -> dict[str, str]:
    """An alias as the engine receives it: a full URN, or the parts of a spec that are set
    (name, type, parent URN; pulumi-aws adds type-only aliases of its own)."""
    if alias.urn:
        return {"urn": alias.urn}
    spec = {"name": alias.spec.name, "type": alias.spec.type, "parent": alias.spec.parentUrn}
    return {key: value for key, value in spec.items() if value}


def _plain(value: Any) -> Any:
    """Engine values as JSON: assets become {"file": path} / {"text": ...}."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, pulumi.FileAsset):
        return {"file": str(value.path)}
    if isinstance(value, pulumi.StringAsset):
        return {"text": value.text}
    if isinstance(value, pulumi.FileArchive):
        return {"archive": str(value.path)}
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the engine carries every number as a double
    return value


@dataclass
class PlanResult:
    resources: list[Recorded]
    outputs: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {"resources": [r.to_json() for r in self.resources], "outputs": self.outputs}

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True)

    def by_type(self, token: str) -> list[Recorded]:
        return [r for r in self.resources if r.type == token]

    def get(self, name: str) -> Recorded:
        return next(r for r in self.resources if r.name == name)


def run_under_mocks(program: Callable[[], dict[str, Any]], *, region: str = "us-east-1") -> PlanResult:
    """Run ``program`` under Pulumi's mocks; record every resource and the program's outputs."""
    monitor = _RecordingMonitor(GlacierMocks(region))
    settings.ROOT.set(None)  # a fresh root stack for each run in this process
    pulumi.runtime.set_mocks(monitor.mocks, project=PROJECT, stack=STACK, preview=False, monitor=monitor)
    exported: dict[str, Any] = {}

    def body() -> None:
        outputs = program()
        resolved: dict[str, Any] | None = _sync_await(pulumi.Output.from_input(outputs).future())
        exported.update(resolved or {})

    try:
        _sync_await(run_pulumi_func(body))
    finally:
        settings.ROOT.set(None)
    # Registration order follows output resolution; sort so the plan is stable text.
    resources = sorted(monitor.recorded, key=lambda r: (r.parent or "", r.name, r.type))
    return PlanResult(resources=resources, outputs=_plain(exported))


def plan(
    path: str,
    *,
    loader: PipelineLoader,
    pipeline: str | None = None,
    options: DeployOptions | None = None,
) -> PlanResult:
    """The offline preview of deploying the pipelines in ``path`` (a file or module name,
    loaded with ``loader``, e.g. ``glacier.load_pipelines``)."""
    opts = options or DeployOptions(build_layer=False)
    config = ProgramConfig(modules=(path,), select=(pipeline,) if pipeline else (), options=opts)
    return run_under_mocks(lambda: declare(config, loader), region=opts.region or DEFAULT_REGION)


def render_text(result: PlanResult) -> str:
    """One line per resource (type, name, parent) with its inputs indented below."""
    lines: list[str] = []
    for r in result.resources:
        notes = [f"parent: {r.parent}"] if r.parent else []
        notes += ["retained on delete"] if r.retain_on_delete else []
        lines.append(f"+ {r.type}  {r.name}" + (f"  ({', '.join(notes)})" if notes else ""))
        for key in sorted(r.inputs):
            value = r.inputs[key]
            shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            if key == "definition" or len(shown) > 160:
                shown = shown[:157].replace("\n", " ") + "..."
            lines.append(f"    {key}: {shown}")
    lines.append("")
    lines.append(f"{len(result.resources)} resources")
    for name, outputs in sorted(result.outputs.items()):
        lines.append(f"outputs of {name}: {json.dumps(outputs, sort_keys=True)}")
    return "\n".join(lines)
