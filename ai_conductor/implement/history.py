"""Similar past changes from the context store, for the backends' prompts: what was kept before
for the same rules, and what was rejected and why (so a model does not repeat a failed fix).

The context store is filled by ``conductor maintenance context-sync``. Reading it is best
effort: a store that cannot be opened or searched leaves the prompt without history.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from ai_conductor.analysis.models import Finding
from ai_conductor.errors import ConductorError
from ai_conductor.settings import Settings

log = logging.getLogger("ai_conductor.implement")
PER_KIND = 2
"""Records of each kind (kept, rejected) shown."""
MAX_CHARS = 400
"""Characters of one record shown."""


class History:
    """Looks up past changes for a group of findings; one store per implement run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Any = None
        self._lock = threading.Lock()  # the implementer's threads share one store
        self.problem: str | None = None
        """Why history is unavailable (the store could not be opened), once known."""

    def _open(self) -> Any:
        with self._lock:
            if self._store is None and self.problem is None:
                from ai_conductor.context import open_context_store

                try:
                    self._store = open_context_store(self.settings)
                except ConductorError as exc:
                    self.problem = f"no change history from the context store: {exc}"
            return self._store

    def lookup(self, findings: Sequence[Finding]) -> list[str]:
        """Up to two kept and two rejected past changes for these findings' rules."""
        store = self._open()
        if store is None or not findings:
            return []
        query = " ".join(dict.fromkeys(f.rule_id for f in findings))
        lines: list[str] = []
        for kind, label in (("change_kept", "kept"), ("change_rejected", "rejected")):
            try:
                hits = store.search(query, k=PER_KIND, filters={"context_type": kind})
            except ConductorError as exc:
                log.warning("context store search failed: %s", exc)
                return lines
            lines += [f"{label}: {' '.join(h.record.content.split())[:MAX_CHARS]}" for h in hits]
        return lines

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
