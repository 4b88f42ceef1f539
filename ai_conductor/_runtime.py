"""Process-local state of the runs in flight: their cancel events and final results.

Prefect parameters are data; live objects (events, results being built) are looked up here
by run id instead. Entries are removed when the run that created them ends.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ai_conductor.results import WorkflowResult


@dataclass
class RunHandle:
    run_id: str
    cancel: threading.Event = field(default_factory=threading.Event)
    result: WorkflowResult | None = None


_lock = threading.Lock()
_runs: dict[str, RunHandle] = {}


def open_run(run_id: str) -> RunHandle:
    with _lock:
        return _runs.setdefault(run_id, RunHandle(run_id))


def get_run(run_id: str) -> RunHandle | None:
    with _lock:
        return _runs.get(run_id)


def close_run(run_id: str) -> RunHandle | None:
    with _lock:
        return _runs.pop(run_id, None)


def cancel_run(run_id: str) -> bool:
    """Ask a run in this process to stop; True when it was found."""
    handle = get_run(run_id)
    if handle is not None:
        handle.cancel.set()
    return handle is not None
