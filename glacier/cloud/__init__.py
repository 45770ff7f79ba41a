"""Run a deployed pipeline: start its Step Functions state machine and follow it."""

from glacier.cloud.runner import CloudRunResult, StateRun, find_state_machine, run_cloud

__all__ = ["CloudRunResult", "StateRun", "find_state_machine", "run_cloud"]
