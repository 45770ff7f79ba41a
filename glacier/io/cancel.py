"""Abandoning a write: after ``CancelToken.cancel()`` nothing is published."""

from __future__ import annotations

import threading
from collections.abc import Callable


class WriteCancelled(Exception):
    """The write was abandoned (its task timed out) before it was published."""


class CancelToken:
    """Lets a runner abandon a write: after ``cancel()``, nothing is published."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.cancelled = False

    def cancel(self) -> None:
        with self._lock:
            self.cancelled = True

    def check(self) -> None:
        if self.cancelled:
            raise WriteCancelled

    def publish(self, action: Callable[[], None]) -> None:
        """Run ``action`` (the one step that makes a write visible) unless cancelled; a
        ``cancel()`` waits for a publish under way to finish."""
        with self._lock:
            if self.cancelled:
                raise WriteCancelled
            action()
