"""``$CONDUCTOR_HOME`` must be a writable directory: checked up front by the commands that write
there, so a read-only disk or a misplaced path is one clear error, not a traceback mid-run."""

from __future__ import annotations

import tempfile
from pathlib import Path

from ai_conductor.errors import ConfigError
from ai_conductor.settings import Settings, get_settings


def check_home(settings: Settings | None = None) -> Path:
    """The home directory, created when missing; :class:`ConfigError` (exit 2) when it cannot be
    created or written (read-only disk, no permission, a file in the way)."""
    home = (settings or get_settings()).home_dir
    try:
        home.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".conductor-write-check-"):
            pass
    except OSError as exc:
        why = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"CONDUCTOR_HOME {home} is not a writable directory ({why}): the audit log, results "
            "and caches live there; point CONDUCTOR_HOME at a writable directory, or fix that "
            "path's permissions or free the disk"
        ) from None
    return home
