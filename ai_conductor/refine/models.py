"""The refiner's data: the verified tidy-up, the type report and the stack review."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from ai_conductor.analysis.models import Finding
from ai_conductor.environment.models import ProjectEnvironment
from ai_conductor.implement.models import Verification
from ai_conductor.publish.models import PublishResult


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class TidyStatus(StrEnum):
    KEPT = "kept"
    """Verified: committed on its branch, patch written."""
    DISCARDED = "discarded"
    """The gate refused it (new findings or failing tests); nothing kept."""
    ERROR = "error"
    """ruff could not run or failed before changing anything."""
    UNCHANGED = "unchanged"
    """Already tidy (ruff changed nothing) or nothing in scope; no branch left behind."""


class TidyResult(_Model):
    """One tidy-up change: ``ruff check --select I --fix`` + ``ruff format`` on its files."""

    name: str = "tidy"
    """``tidy``, or ``tidy-<directory>`` when the tidy-up was split to stay reviewable."""
    status: TidyStatus
    branch: str | None = None
    """Branch holding the verified tidy-up (kept only)."""
    patch: str | None = None
    """Path of ``tidy.patch`` (kept only)."""
    reason: str = ""
    """Why it was discarded or failed, or the gate's confirmation."""
    touched: list[str] = Field(default_factory=list)
    """POSIX paths ruff changed."""
    verification: Verification | None = None
    """The gate's verdict (same gate as the implementer)."""
    lines: int = 0
    """Changed lines (added plus removed)."""
    unchanged_since: str | None = None
    """The branch already held this very tidy-up, made by this earlier run; left as it was."""
    replaced: str | None = None
    """The branch's previous tip, replaced by this run's different tidy-up."""


class TypeReport(_Model):
    """mypy's errors as findings, or a note saying why there are none."""

    available: bool
    """False when mypy is not installed (``note`` says so); not an error."""
    note: str = ""
    """e.g. 'mypy not available', or mypy's own complaint when it could not check the code."""
    version: str | None = None
    errors: int = 0
    """Number of error findings."""
    by_code: dict[str, int] = Field(default_factory=dict)
    """Error counts per mypy error code (arg-type, attr-defined, ...)."""
    findings: list[Finding] = Field(default_factory=list)


class StackReview(_Model):
    """Dependencies and configuration reviewed against a named stack."""

    name: str
    """The stack, e.g. ``python_postgres_weaviate``."""
    checks: list[str] = Field(default_factory=list)
    """Names of the checks that ran."""
    findings: list[Finding] = Field(default_factory=list)
    """``STACK-*`` findings; each message ends with a recommendation."""
    advice_backend: str | None = None
    """The LLM backend that added "Advice:" to the findings, when one was configured."""
    tokens: int = 0
    """Tokens the advice cost."""
    cost_usd: float = 0.0


class RefineReport(_Model):
    """What ``conductor refine`` did and found."""

    run_id: str
    codebase: str
    """Absolute path that was refined."""
    started_at: datetime
    finished_at: datetime
    tidy: list[TidyResult] | None = None
    """The tidy-up's changes (several when it was split to stay reviewable); None when
    tidying was switched off."""
    tidy_scope: str = ""
    """What the tidy-up covered: the analysis' files, the files changed since a ref, or all."""
    environment: ProjectEnvironment | None = None
    """Where the tests and the type check ran, and how that environment was chosen."""
    applied: bool = False
    """Every verified tidy-up change was applied to the checkout (``apply=True``)."""
    not_applied: str | None = None
    """Why the checkout refused the verified tidy-up (``apply=True``; e.g. local edits)."""
    type_report: TypeReport | None = None
    """None when the type report was switched off."""
    stack: StackReview | None = None
    """None when no stack was named."""
    warnings: list[str] = Field(default_factory=list)
    published: PublishResult | None = None
    """The pull request the kept tidy-up changes were published in (``--publish``)."""
