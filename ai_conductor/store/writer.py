"""The audit log's bounded queue and its background writer thread (storage-agnostic).

:class:`~ai_conductor.store.audit.AuditLog` supplies the storage hooks: ``_write`` a batch,
``_spool`` rows to disk, ``_replay_due``/``_replay_now`` for the spool. Rows stay in the queue
while a batch is being written and leave it only once written or spooled, so ``close()`` can
always spool what is left (a row both written and spooled is stored once: event ids).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from itertools import islice
from typing import Any, Final

from ai_conductor.errors import StoreError

log = logging.getLogger("ai_conductor.audit")
_MAX_BACKOFF: Final = 5.0
Row = dict[str, Any]


class WriterThread:
    """A bounded queue of rows and the daemon thread that drains it in batches."""

    def __init__(
        self, *, flush_interval: float, batch_size: int, spool_after: float, max_queue: int
    ) -> None:
        self.flush_interval = flush_interval
        self.batch_size = max(1, batch_size)
        self.spool_after = spool_after
        """Seconds the database may be unreachable before queued rows go to the spool."""
        self.max_queue = max(1, max_queue)
        """Most rows held in memory; beyond it ``record`` spools at once."""
        self._cond = threading.Condition()
        self._pending: deque[Row] = deque()
        self._recorded = 0  # rows ever queued
        self._settled = 0  # rows written, spooled or dropped
        self._failures = 0  # failed write attempts
        self._flush_wanted = False
        self._stopping = False
        self._closed = False
        self._overflowing = False
        self._thread: threading.Thread | None = None
        self._down_since: float | None = None  # monotonic time of the first failure in a row

    # -- hooks ----------------------------------------------------------------------------

    def _write(self, batch: list[Row]) -> None:
        raise NotImplementedError

    def _spool(self, rows: list[Row], *, quiet: bool = False) -> None:
        raise NotImplementedError

    def _replay_due(self) -> bool:
        return False

    def _replay_now(self) -> None:
        return None

    def _shown(self) -> str:
        return type(self).__name__

    # -- callers' side --------------------------------------------------------------------

    def _enqueue(self, row: Row) -> bool:
        """Queue ``row`` for the writer; False when closed or full (the caller spools it)."""
        with self._cond:
            if self._closed:
                return False
            if len(self._pending) >= self.max_queue:
                if not self._overflowing:
                    log.warning("audit queue full (%d events): spooling new events to disk",
                                len(self._pending))  # fmt: skip
                    self._overflowing = True
                return False
            self._pending.append(row)
            self._recorded += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="conductor-audit-writer", daemon=True
                )
                self._thread.start()
            if len(self._pending) in (1, self.batch_size):
                self._cond.notify_all()
            return True

    def flush(self, timeout: float | None = 10.0) -> None:
        """Wait until everything recorded so far is written or spooled, or a write attempt has
        just failed (the rows stay queued), or ``timeout`` seconds pass."""
        with self._cond:
            target, failures = self._recorded, self._failures
            if self._settled >= target or self._thread is None:
                return
            self._flush_wanted = True
            self._cond.notify_all()
            done = self._cond.wait_for(
                lambda: self._settled >= target or self._failures > failures or self._stopping,
                timeout,
            )
        if not done:
            log.warning("audit flush timed out after %ss; events stay queued", timeout)

    def _stop(self) -> tuple[bool, threading.Thread | None]:
        """Ask the writer to finish; ``(first call, the thread to join)``."""
        with self._cond:
            if self._closed:
                return False, None
            self._closed = self._stopping = True
            self._cond.notify_all()
            return True, self._thread

    def _drain(self) -> list[Row]:
        """Take every queued row out of the queue (they count as settled)."""
        with self._cond:
            left = list(self._pending)
            self._pending.clear()
            self._settled += len(left)
            self._cond.notify_all()
            return left

    # -- the writer thread ----------------------------------------------------------------

    def _run(self) -> None:
        delay = self.flush_interval
        while (taken := self._take(delay)) is not None:
            batch, stopping = taken
            try:
                if batch:
                    self._write(batch)
                    self._done(len(batch))
                if not stopping and self._replay_due():
                    self._replay_now()
            except Exception as exc:  # database down (or a bug): keep the rows, retry later
                self._failed(exc, stopping)
                if stopping:
                    return
                delay = min(max(delay * 2, 0.5), _MAX_BACKOFF)
                continue
            if self._down_since is not None:
                log.warning("audit log %s reachable again", self._shown())
                self._down_since = None
            delay = self.flush_interval

    def _take(self, delay: float) -> tuple[list[Row], bool] | None:
        """The next batch (peeked, not removed) after batching for up to ``delay`` seconds;
        an empty batch when only a spool replay is due; None when stopped and drained."""
        with self._cond:
            if not self._pending and not self._stopping:
                due = self._replay_due()
                self._cond.wait_for(lambda: bool(self._pending) or self._stopping,
                                    delay if due else None)  # fmt: skip
            if self._pending and not self._stopping:
                self._cond.wait_for(
                    lambda: (
                        self._flush_wanted
                        or self._stopping
                        or len(self._pending) >= self.batch_size
                    ),
                    delay,
                )
            self._flush_wanted = False
            batch = list(islice(self._pending, self.batch_size))
            if not batch and self._stopping:
                return None
            return batch, self._stopping

    def _done(self, count: int) -> None:
        with self._cond:
            for _ in range(min(count, len(self._pending))):  # close() may have spooled them
                self._pending.popleft()
            self._settled += count
            self._overflowing = False
            self._cond.notify_all()

    def _failed(self, exc: Exception, stopping: bool) -> None:
        with self._cond:
            self._failures += 1
            self._cond.notify_all()
        now = time.monotonic()
        if self._down_since is None:
            self._down_since = now
            reason = str(exc) if isinstance(exc, StoreError) else type(exc).__name__
            log.warning("audit log unavailable, events kept queued for retry: %s", reason)
        if stopping:
            return  # close() spools what is left
        with self._cond:
            full = len(self._pending) >= self.max_queue
        if full or now - self._down_since >= self.spool_after:
            self._spool(self._drain())
