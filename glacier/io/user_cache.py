"""The user's Glacier cache folder: facts about this machine's files and builds that hold for
every project and state folder (built artifacts, content digests of local files)."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$GLACIER_CACHE``, else ``~/.cache/glacier``."""
    base = os.environ.get("GLACIER_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "glacier"
