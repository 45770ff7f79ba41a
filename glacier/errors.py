"""One hierarchy for every user-facing error.

Each error subclasses ValueError (as the design documents raise) and carries a message that
names the task, bucket or parameter involved and says how to fix it. The CLI prints the
message alone and exits 1; nothing here should ever surface as a traceback.
"""

from __future__ import annotations


class GlacierError(ValueError):
    """Base of every error Glacier raises for bad input."""

    def __init__(self, message: str, *, fix: str | None = None) -> None:
        self.problem = message
        self.fix = fix
        super().__init__(f"{message} Fix: {fix}" if fix else message)


class ConfigError(GlacierError):
    """An impossible configuration value (memory, timeout, workers, region ...)."""


class DefinitionError(GlacierError):
    """The pipeline definition is misused: wrong chaining order, bad task, bad source name."""


class GraphError(GlacierError):
    """The definition builds a graph that cannot run: cycle, two writers, self-read."""


class FormatError(GlacierError):
    """A dataset path whose suffix names no supported format."""


class DiscoveryError(GlacierError):
    """A pipeline file or module could not be loaded, or holds conflicting pipelines."""


class ExecutionError(GlacierError):
    """A task failed while running (locally or in the cloud)."""

    def __init__(self, message: str, *, task: str | None = None, fix: str | None = None) -> None:
        self.task = task
        super().__init__(message, fix=fix)


class TaskTimeoutError(ExecutionError):
    """A task ran past its timeout."""


class DeploymentError(GlacierError):
    """The pipeline cannot be mapped onto AWS as declared."""


class HistoryError(GlacierError):
    """The local run history folder or database cannot be used (a file, read-only, corrupt)."""
