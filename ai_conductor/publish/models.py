"""What a publication carries: the verified changes of a run (or of several workflow tasks),
what was discarded, how it was verified; and what publishing did."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ai_conductor.forge.models import PullRequest


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class FindingNote(_Model):
    """A finding a change fixes, as the pull request names it."""

    rule: str
    """``tool/rule_id``, e.g. ``ruff/F401``."""
    path: str
    line: int
    message: str
    severity: str = ""


class ChangeNote(_Model):
    """One verified change: published as its own commit."""

    group: str
    """e.g. ``file:app.py``, ``tidy``."""
    task: str
    """The workflow task that made it."""
    commit: str
    """The verified commit on its change branch."""
    branch: str
    """Its change branch (``conductor/<workflow>/<task>/<group>``)."""
    title: str
    """What it does, in a line."""
    findings: list[FindingNote] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)
    verification: str = ""
    """The gate's verdict."""
    tests: str = ""
    """The test run: command, result, duration."""


class Dropped(_Model):
    """A change that is not in the pull request, and why."""

    group: str
    task: str
    status: str
    """``discarded``, ``error``, or ``left out`` (did not apply on top of the others)."""
    reason: str


class Publication(_Model):
    """Everything one pull request is made of."""

    workflow_id: str
    tasks: list[str]
    """The workflow tasks whose changes it carries (one, or several for weekly-improve)."""
    run_id: str
    """The audit-log run id (``conductor logs --run``)."""
    codebase: str
    changes: list[ChangeNote] = Field(default_factory=list)
    dropped: list[Dropped] = Field(default_factory=list)
    analyzer: list[str] = Field(default_factory=list)
    """How the analyzer verified (before/after), one line each."""
    environment: str = ""
    """Where the tests ran and how that place was chosen."""
    test_command: str = ""
    duration_s: float = 0.0
    backend: str = ""
    tokens: int = 0
    cost_usd: float = 0.0

    @property
    def branch(self) -> str:
        """The stable branch the pull request comes from."""
        return f"conductor/{self.workflow_id}/{'+'.join(self.tasks)}"


class PublishOptions(_Model):
    """Where and how to publish."""

    remote: str = "origin"
    forge: str | None = None
    """``github``, ``gitlab``, ``gitea``; None: ``CONDUCTOR_FORGE``, else from the remote URL."""
    draft: bool = False
    """Open the pull request as a draft (an open one keeps its state)."""
    labels: list[str] = Field(default_factory=lambda: ["ai-conductor"])
    base: str | None = None
    """Target branch; None: the checked-out branch, else the remote's default."""


class PublishResult(_Model):
    """What publishing did."""

    status: Literal["opened", "updated", "unchanged", "nothing"]
    """``nothing``: no verified change (an open pull request was left as it was)."""
    branch: str
    base: str = ""
    forge: str = ""
    remote: str = ""
    """The remote's address (no credentials)."""
    pushed: bool = False
    """False: the remote branch already held exactly these commits."""
    commits: dict[str, str] = Field(default_factory=dict)
    """Published commit per change group."""
    left_out: dict[str, str] = Field(default_factory=dict)
    """Verified changes not in the pull request, with the reason."""
    pull_request: PullRequest | None = None
    duration_s: float = 0.0
    note: str = ""
