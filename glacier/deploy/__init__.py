"""Deployment to AWS with Pulumi: the program, the per-pipeline component, the shared data
buckets, the state machine, IAM and artifacts.

``asl``, ``schedule``, ``iam``, ``naming``, ``options`` and ``packaging`` are pure (no pulumi
import), so analysis and benchmarks can use them. The component is declared layer by layer
(``base`` -> ``artifacts`` -> ``compute`` -> ``orchestration`` -> ``component``);
``buckets``, ``program`` and ``plan`` need pulumi too; ``generate`` does not.
"""
