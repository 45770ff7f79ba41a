"""How long a deployed task may run: one answer for its Lambda function and its state.

A task's ``timeout`` (the DSL option, in seconds) and its function's
``LambdaConfig(timeout=...)`` must agree, or the plan would have a state that waits longer
than its function can run. When both are set, the task's may not exceed the function's;
when only the task sets one, the function's timeout is the task's (rounded up, at most
Lambda's 900 s) and the state's ``TimeoutSeconds`` is that same value. (Pure: no pulumi.)
"""

from __future__ import annotations

import math

from glacier.config import LambdaConfig
from glacier.dag.model import PipelineDAG, TaskNode
from glacier.errors import DeploymentError

LAMBDA_MAX_TIMEOUT = 900


def _function_timeout_is_set(config: LambdaConfig) -> bool:
    # A config built in Python records which fields the user passed; one read back from a
    # DAG document counts every field as passed (the stricter reading).
    return "timeout" in config.model_fields_set


def lambda_timeout(task: TaskNode, config: LambdaConfig) -> int:
    """The function's timeout in seconds."""
    if task.timeout is None or _function_timeout_is_set(config):
        return config.timeout
    return min(math.ceil(task.timeout), LAMBDA_MAX_TIMEOUT)


def state_timeout(task: TaskNode) -> int | None:
    """The state's ``TimeoutSeconds`` (None: the state waits as long as its target runs)."""
    if task.timeout is None:
        return None
    config = task.executor.config
    if isinstance(config, LambdaConfig) and not _function_timeout_is_set(config):
        return lambda_timeout(task, config)
    return math.ceil(task.timeout)


def check_timeouts(dag: PipelineDAG) -> None:
    """Refuse a task whose timeout is longer than its Lambda function's."""
    for task in dag.tasks:
        config = task.executor.config
        if task.timeout is None or not isinstance(config, LambdaConfig):
            continue
        if _function_timeout_is_set(config) and math.ceil(task.timeout) > config.timeout:
            raise DeploymentError(
                f"Task '{task.name}' of pipeline '{dag.name}' has timeout={task.timeout:g} s, longer "
                f"than its function's LambdaConfig(timeout={config.timeout}).",
                fix=f"give '{task.name}' a timeout of at most {config.timeout} s, raise "
                f"LambdaConfig(timeout=...) to at least {math.ceil(task.timeout)} (Lambda allows "
                f"{LAMBDA_MAX_TIMEOUT}), or set only one of the two.",
            )
