"""A hard budget for one implement run: tokens, money (when prices are known), wall time."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ai_conductor.errors import AgentError


class BudgetExceeded(AgentError):
    """The run's budget is spent: no further attempt starts (not retryable)."""

    retryable = False


@dataclass
class Budget:
    """Shared by every attempt of a run; thread-safe. ``None`` limits are unlimited."""

    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_seconds: float | None = None
    tokens: int = 0
    cost_usd: float = 0.0
    started: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def charge(self, tokens: int, cost_usd: float = 0.0) -> None:
        with self._lock:
            self.tokens += max(0, tokens)
            self.cost_usd += max(0.0, cost_usd)

    def exceeded(self) -> str | None:
        """Why the budget is spent, or None while there is some left."""
        with self._lock:
            if self.max_tokens is not None and self.tokens >= self.max_tokens:
                return f"token budget spent ({self.tokens} of {self.max_tokens})"
            if self.max_cost_usd is not None and self.cost_usd >= self.max_cost_usd:
                return f"cost budget spent (${self.cost_usd:.4f} of ${self.max_cost_usd:.4f})"
        elapsed = time.monotonic() - self.started
        if self.max_seconds is not None and elapsed >= self.max_seconds:
            return f"time budget spent ({elapsed:.0f}s of {self.max_seconds:g}s)"
        return None

    def check(self) -> None:
        """Raise ``BudgetExceeded`` when spent."""
        why = self.exceeded()
        if why:
            raise BudgetExceeded(why)

    def remaining_seconds(self) -> float | None:
        if self.max_seconds is None:
            return None
        return max(0.0, self.max_seconds - (time.monotonic() - self.started))
