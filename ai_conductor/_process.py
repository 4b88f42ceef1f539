"""A process as an owner record (host, pid, start time), and whether that owner still runs.

The start time (clock ticks since boot, from ``/proc``) tells a reused pid from the process
that wrote the record. Used by the server's run log (an unfinished run is lost only once its
process is gone) and by the implementer's worktree reclaim.
"""

from __future__ import annotations

import os
import socket
from typing import Any


def process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot), or None where /proc is missing."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields[19] if len(fields) > 19 else None


def this_process() -> dict[str, Any]:
    """The owner record of the calling process: ``{host, pid, started}``."""
    pid = os.getpid()
    return {"host": socket.gethostname(), "pid": pid, "started": process_start(pid)}


def process_alive(owner: dict[str, Any]) -> bool:
    """Whether the process ``owner`` names may still run: True for a live process of this host
    and for one on another host (it cannot be checked from here); False when it is gone, its
    pid now names another process, or the record has no valid pid."""
    if owner.get("host") != socket.gethostname() or os.name == "nt":
        return True  # cannot check (on Windows signal 0 would be CTRL_C_EVENT)
    pid = owner.get("pid")
    if not isinstance(pid, int) or pid <= 0:
        return False
    started = owner.get("started")
    if started is not None and started != process_start(pid):
        return False  # gone, and the pid reused (or no such process)
    try:
        os.kill(pid, 0)
    except PermissionError:
        return True
    except OSError:
        return False
    return True
