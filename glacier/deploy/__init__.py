"""Deployment to AWS with Pulumi: the component, its state machine, IAM and artifacts.

``asl``, ``schedule``, ``iam``, ``naming`` and ``packaging`` are pure (no pulumi import), so
analysis and benchmarks can use them; ``component``, ``plan`` and ``generate`` need pulumi.
"""
