"""Calling flaky remote services: bounded retries with backoff, and a circuit breaker per backend.

Retries are ours (SDK retries are switched off) so every one is counted, honours the server's
``Retry-After`` hint and stops as soon as the backend's breaker is open.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from ai_conductor.errors import AgentError

__all__ = ["CircuitBreaker", "CircuitOpen", "breaker_for", "call_with_retries", "retry_after"]

T = TypeVar("T")


class CircuitOpen(AgentError):
    """A backend failed too often in a row; calls fail fast until its cool-down has passed."""

    retryable = False


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (``Retry-After`` / ``retry-after-ms``), if it did."""
    headers: Any = getattr(getattr(exc, "response", None), "headers", None)
    if headers is None:
        return None
    try:
        if (ms := headers.get("retry-after-ms")) is not None:
            return max(0.0, float(ms) / 1000)
        if (value := headers.get("retry-after")) is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:  # an HTTP date
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def call_with_retries(
    fn: Callable[[], T],
    *,
    retries: int,
    is_transient: Callable[[BaseException], bool],
    base_delay: float = 0.5,
    max_delay: float = 20.0,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``fn()``, retried up to ``retries`` times while it raises a transient error.

    Waits ``base_delay * 2**n`` (capped at ``max_delay``, half of it jittered) between tries,
    or the server's ``Retry-After`` hint (also capped) when the error carries one. Any other
    error, and the last transient one, propagates unchanged.
    """
    for n in range(retries + 1):
        try:
            return fn()
        except Exception as exc:
            if n >= retries or not is_transient(exc):
                raise
            hint = retry_after(exc)
            if hint is None:
                delay = min(max_delay, base_delay * 2**n)
                hint = delay / 2 + random.uniform(0, delay / 2)  # noqa: S311 (jitter, not crypto)
            sleep(min(max_delay, hint))
    raise AssertionError("unreachable")  # pragma: no cover


class CircuitBreaker:
    """Opens after ``threshold`` consecutive failures; after ``cooldown`` seconds one probe call
    is let through (half-open): success closes it, failure opens it again. Thread-safe."""

    def __init__(
        self, key: str, threshold: int = 5, cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:  # fmt: skip
        self.key, self.threshold, self.cooldown, self._clock = key, threshold, cooldown, clock
        self.failures = 0
        self._opened_at: float | None = None
        self._probing = False
        self._lock = threading.Lock()

    def before_call(self) -> None:
        """Raise :class:`CircuitOpen` unless a call may go ahead now."""
        with self._lock:
            if self._opened_at is None:
                return
            wait = self._opened_at + self.cooldown - self._clock()
            if wait <= 0 and not self._probing:
                self._probing = True  # half-open: this caller is the single probe
                return
        when = f"for another {wait:.0f}s" if wait > 0 else "until the probe call in flight ends"
        raise CircuitOpen(
            f"{self.key}: circuit open after {self.failures} consecutive failures; not calling "
            f"it {when} (check the service, or wait and rerun)"
        )

    def record_success(self) -> None:
        with self._lock:
            self.failures, self._opened_at, self._probing = 0, None, False

    def record_failure(self) -> None:
        with self._lock:
            self.failures += 1
            if self._probing or self.failures >= self.threshold:
                self._opened_at = self._clock()
            self._probing = False

    def call(self, fn: Callable[[], T], counts: Callable[[BaseException], bool]) -> T:
        """``fn()`` guarded by the breaker; errors for which ``counts`` is true are failures."""
        self.before_call()
        try:
            result = fn()
        except Exception as exc:
            if counts(exc):
                self.record_failure()
            else:
                self.record_success()  # the service answered; the request was at fault
            raise
        except BaseException:  # interrupted (cancelled, Ctrl-C): never leave a probe hanging
            with self._lock:
                self._probing = False
            raise
        self.record_success()
        return result


_BREAKERS: dict[str, CircuitBreaker] = {}
_REGISTRY_LOCK = threading.Lock()


def breaker_for(key: str, threshold: int = 5, cooldown: float = 30.0) -> CircuitBreaker:
    """The process-wide breaker for ``key`` (e.g. ``openai:<base_url>:<model>``), created on
    first use with ``threshold`` and ``cooldown``; later calls update both settings."""
    with _REGISTRY_LOCK:
        breaker = _BREAKERS.get(key)
        if breaker is None:
            breaker = _BREAKERS[key] = CircuitBreaker(key, threshold, cooldown)
        breaker.threshold, breaker.cooldown = threshold, cooldown
        return breaker
