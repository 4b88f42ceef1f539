"""The implementer-backend interface: turn one change request into a proposal."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol, runtime_checkable

from ai_conductor.implement.models import ChangeRequest, Proposal


@runtime_checkable
class Backend(Protocol):
    """Something that fixes findings: an analyzer's own fixes, an LLM, a command, a fake."""

    name: str

    def propose(self, request: ChangeRequest, workspace: Path, feedback: str | None) -> Proposal:
        """Fix ``request`` in ``workspace`` (a disposable copy of the codebase).

        ``feedback`` says why the previous attempt was rejected (None on the first attempt).
        A backend may change files in ``workspace`` itself and return a proposal without
        edits, or return edits for the gate to apply. Failures raise ``AgentError`` subclasses.
        """
        ...
