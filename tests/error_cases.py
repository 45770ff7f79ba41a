"""The shape of the bad-input tables (tests/test_errors.py, test_trigger_errors.py,
schema/test_schema_errors.py, and docs/errors.md): each case names what the user wrote, how
to provoke it, the error class, what the message must name and what the fix must say."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from glacier.errors import GlacierError


@dataclass(frozen=True)
class Case:
    bad_input: str  # what the user wrote (the docs table's first column)
    trigger: Callable[[Path], Any]
    error: type[GlacierError]
    culprit: str  # the message must name this
    fix: str  # ... and the fix must say this


def assert_clear_error(case_id: str, case: Case, tmp_path: Path) -> GlacierError:
    """The case raises exactly its GlacierError: one line, naming the culprit, with the fix."""
    with pytest.raises(GlacierError) as caught:
        case.trigger(tmp_path)
    error = caught.value
    assert type(error) is case.error, f"{case_id}: {type(error).__name__}: {error}"
    assert isinstance(error, ValueError)  # as the seeds raise
    message = str(error)
    assert case.culprit in error.problem, message
    assert error.fix and case.fix in error.fix, message
    assert message == f"{error.problem} Fix: {error.fix}"
    assert "\n" not in message and "Traceback" not in message and "Resolved plan" not in message
    return error
