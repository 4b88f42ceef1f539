"""User-given paths: ``~`` expanded with a clear error, not Python's bare ``RuntimeError``."""

from __future__ import annotations

import os
from pathlib import Path

from ai_conductor.errors import UsageError


def expand_user(path: str | os.PathLike[str]) -> Path:
    """``Path(path).expanduser()``; ``~name`` of a user this machine does not have (or ``~``
    without a home) raises :class:`UsageError` naming the path."""
    try:
        return Path(path).expanduser()
    except RuntimeError:  # pathlib: "Could not determine home directory."
        user = Path(path).parts[0] if Path(path).parts else str(path)
        raise UsageError(
            f"cannot expand {str(path)!r}: {user!r} names no user with a home directory on "
            "this machine; write the path out in full"
        ) from None
