"""Counting a run's changes for a :data:`~ai_conductor.protocols.ProgressObserver`."""

from __future__ import annotations

import logging
import threading
import time

from ai_conductor.protocols import ProgressObserver, RunProgress

log = logging.getLogger(__name__)


class Tracker:
    """Thread-safe counters; every update is handed to the observer (if any) as a snapshot."""

    def __init__(self, observer: ProgressObserver | None) -> None:
        self.observer = observer
        self.started = time.monotonic()
        self._lock = threading.Lock()
        self.phase, self.total, self.done, self.kept, self.discarded = "start", 0, 0, 0, 0

    def _tell(self, current: str = "", attempt: int = 0) -> None:
        if self.observer is None:
            return
        snap = RunProgress(
            phase=self.phase, done=self.done, total=self.total, kept=self.kept,
            discarded=self.discarded, current=current, attempt=attempt,
            elapsed=round(time.monotonic() - self.started, 1),
        )  # fmt: skip
        try:
            self.observer(snap)
        except Exception:  # a broken display must not fail the run
            log.exception("progress observer failed")

    def step(self, phase: str, total: int | None = None) -> None:
        with self._lock:
            self.phase = phase
            self.total = self.total if total is None else total
            self._tell()

    def attempt(self, current: str, number: int) -> None:
        with self._lock:
            self._tell(current, number)

    def finished(self, kept: bool) -> None:
        with self._lock:
            self.done += 1
            self.kept += kept
            self.discarded += not kept
            self._tell()
