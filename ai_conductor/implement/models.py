"""The implementer's data: change requests, proposed edits, verification and results."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ai_conductor.analysis.models import Finding
from ai_conductor.environment.models import ProjectEnvironment
from ai_conductor.publish.models import PublishResult


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class Edit(_Model):
    """One search/replace edit of a file in the workspace (what LLM backends return)."""

    path: str = Field(max_length=500)
    """POSIX path relative to the workspace root; anything escaping it is refused."""
    search: str = Field(max_length=20_000)
    """Exact text to find (must occur exactly once); empty to create a new file."""
    replace: str = Field(max_length=40_000)


class ChangeRequest(_Model):
    """What a backend is asked to do: fix these findings, all in one group (a file or a rule)."""

    group: str
    """e.g. ``file:src/app.py``; also names the branch and the patch file."""
    findings: list[Finding]
    instructions: str = ""
    """Extra guidance (focus, the user's notes)."""
    history: list[str] = Field(default_factory=list)
    """Past changes for the same rules from the context store ("kept: ...", "rejected: ...")."""
    allow_api_changes: bool = False
    """False: public module-level names must stay (an unused import becomes an explicit
    re-export instead of being deleted); see :mod:`ai_conductor.implement.api`."""


class Proposal(_Model):
    """What a backend did or proposes for a request."""

    edits: list[Edit] = Field(default_factory=list)
    """Edits for the gate to apply; empty when the backend changed the workspace itself."""
    summary: str = ""
    """What was changed and why, in a sentence or two."""
    tokens: int = 0
    cost_usd: float = 0.0


class TestRun(_Model):
    command: list[str]
    exit_code: int | None = None
    passed: bool = False
    timed_out: bool = False
    duration_s: float = 0.0
    output_tail: str = ""
    environment: str = ""
    """Where the tests ran (``ProjectEnvironment.describe()``)."""


class Verification(_Model):
    """The gate's verdict on one attempt."""

    passed: bool
    reason: str = ""
    """Why it failed (fed back to the backend), or a short confirmation."""
    remaining: list[str] = Field(default_factory=list)
    """Fingerprints of targeted findings still present."""
    introduced: list[Finding] = Field(default_factory=list)
    """New findings at or above medium in the touched files."""
    tests: TestRun | None = None


class AttemptStatus(StrEnum):
    KEPT = "kept"
    DISCARDED = "discarded"
    ERROR = "error"


class Attempt(_Model):
    number: int
    status: AttemptStatus
    reason: str = ""
    touched: list[str] = Field(default_factory=list)
    verification: Verification | None = None
    summary: str = ""


class ChangeResult(_Model):
    group: str
    findings: list[str]
    """Fingerprints of the findings this change targets."""
    status: AttemptStatus
    branch: str | None = None
    """Branch holding the verified change (kept changes only)."""
    patch: str | None = None
    """Path of the patch file (kept changes only); a Markdown summary sits beside it (.md)."""
    summary: str = ""
    attempts: list[Attempt] = Field(default_factory=list)
    unchanged_since: str | None = None
    """The branch already held this very change (same base, findings and result), made by
    this earlier run; it was left as it was."""
    replaced: str | None = None
    """The branch held a different earlier result: its old tip (now under
    ``refs/conductor/previous/<branch>``), replaced by this run's change."""


class ImplementReport(_Model):
    run_id: str
    codebase: str
    backend: str
    environment: ProjectEnvironment | None = None
    """Where the project's tests ran, and how that environment was chosen."""
    started_at: datetime
    finished_at: datetime
    changes: list[ChangeResult] = Field(default_factory=list)
    applied: list[str] = Field(default_factory=list)
    """Groups whose verified patch was applied to the checkout (--apply)."""
    not_applied: dict[str, str] = Field(default_factory=dict)
    """Groups whose verified patch was refused by the checkout (--apply), with the reason."""
    stopped: str | None = None
    """Why the run stopped early (e.g. its budget was spent); None when it ran to the end."""
    tokens: int = 0
    cost_usd: float = 0.0
    warnings: list[str] = Field(default_factory=list)
    published: PublishResult | None = None
    """The pull request the kept changes were published in (``--publish``)."""
