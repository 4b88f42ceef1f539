"""The ``fake`` backend: a scripted, deterministic stand-in for a model (tests and demos)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ai_conductor.errors import UsageError
from ai_conductor.implement.edits import EditRejected, parse_edits
from ai_conductor.implement.models import ChangeRequest, Edit, Proposal

Script = list[list[Edit] | None]


class FakeBackend:
    """Returns scripted edits and records what it was asked.

    Option ``script``: a list whose entry *i* answers attempt *i + 1* of a group; each entry is
    a list of ``{path, search, replace}`` dicts, or ``"noop"`` for no change. A mapping of group
    to such a list scripts groups separately. Past the end of its script it returns no edits.
    Every call's ``(request.group, feedback)`` is appended to :attr:`calls`. It never touches
    the filesystem.
    """

    name = "fake"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        options = dict(options or {})
        unknown = set(options) - {"script"}
        if unknown:
            raise UsageError(f"fake backend: unknown option(s) {sorted(unknown)}; known: script")
        raw = options.get("script", [])
        if isinstance(raw, Mapping):
            self.scripts = {str(group): _script(entries) for group, entries in raw.items()}
            self.default: Script = []
        else:
            self.scripts = {}
            self.default = _script(raw)
        self.calls: list[tuple[str, str | None]] = []
        """Every ``(group, feedback)`` received, in order."""

    def propose(self, request: ChangeRequest, workspace: Path, feedback: str | None) -> Proposal:
        """The scripted answer to this group's next attempt."""
        attempt = sum(1 for group, _ in self.calls if group == request.group) + 1
        self.calls.append((request.group, feedback))
        script = self.scripts.get(request.group, self.default)
        edits = script[attempt - 1] if attempt <= len(script) else None
        if not edits:
            return Proposal(summary=f"fake attempt {attempt}: no change")
        return Proposal(
            edits=[e.model_copy() for e in edits],
            summary=f"fake attempt {attempt}: {len(edits)} scripted edit(s)",
        )


def _script(raw: Any) -> Script:
    if not isinstance(raw, list):
        raise UsageError("fake backend: option 'script' must be a list (or a group -> list map)")
    script: Script = []
    for i, entry in enumerate(raw):
        if entry == "noop":
            script.append(None)
            continue
        try:
            script.append(parse_edits(entry))
        except EditRejected as exc:
            raise UsageError(f"fake backend: script[{i}]: {exc}") from exc
    return script
