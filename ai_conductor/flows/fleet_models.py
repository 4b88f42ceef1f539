"""The fleet audit's parameters (a form in the Prefect UI) and its per-repository records."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ai_conductor.analysis.gate import FailOn


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class FleetRepo(_Model):
    """One repository of the fleet."""

    codebase: str = Field(min_length=1)
    """A local directory, or a git URL (https://, ssh://, git@, file://) to clone."""
    branch: str | None = None
    """Branch or tag to check out when ``codebase`` is a git URL (default: its HEAD)."""
    name: str | None = None
    """Name in the roll-up (default: the directory or repository name)."""


class FleetRequest(_Model):
    """Parameters of a fleet audit; the Prefect UI renders this as a form."""

    repos: list[FleetRepo] = Field(min_length=1)
    """The repositories to audit."""
    focus: list[str] = Field(default_factory=list)
    """Focus areas: security, performance, complexity, database, api, algorithms, bugs, style."""
    fail_on: FailOn = "none"
    """The run fails when any repository reports a finding at least this severe."""
    max_concurrency: int = Field(default=4, ge=1, le=256)
    """Repositories audited at the same time (threads, or local Dask workers)."""
    task_runner: Literal["threads", "dask"] = "threads"
    """``threads`` (in the flow's process) or ``dask`` (prefect-dask: ai-conductor[dask])."""
    dask_address: str | None = None
    """Scheduler of a running Dask cluster, e.g. tcp://host:8786 (default: a local cluster)."""
    output_dir: str | None = None
    """Where ``<repo>/analysis.*`` and ``fleet-rollup.*`` go (default: under CONDUCTOR_HOME)."""
    tools: list[str] | None = None
    """Analyzer tools to run (default: ruff, bandit, radon)."""


class RepoJob(_Model):
    """What one mapped task needs; ``codebase`` is raw (it may carry credentials to clone)."""

    slug: str
    name: str
    codebase: str
    branch: str | None
    focus: list[str]
    tools: list[str] | None
    fail_on: str
    out_dir: str


class RepoOutcome(_Model):
    """One repository's line of the roll-up (never holds credentials)."""

    slug: str
    """Unique within the fleet run: the directory of this repository's reports."""
    name: str
    codebase: str
    """The path or git URL, credentials removed."""
    branch: str | None = None
    status: Literal["completed", "failed"] = "completed"
    error: str | None = None
    """Why the repository could not be audited (status ``failed``)."""
    codebase_id: str | None = None
    run_id: str | None = None
    """The analysis run (``analysis.json``'s ``run_id``)."""
    findings: int = 0
    by_severity: dict[str, int] = Field(default_factory=dict)
    new: int = 0
    existing: int = 0
    fixed: int = 0
    gate: Literal["passed", "failed"] | None = None
    """The quality gate (``fail_on``) for this repository; none when it could not run."""
    gate_failing: int = 0
    """Findings at or above ``fail_on``."""
    reports: dict[str, str] = Field(default_factory=dict)
    """Format (json, sarif, markdown) -> report file, relative to the fleet's output directory."""
    warnings: list[str] = Field(default_factory=list)
    started_at: datetime | None = None
    finished_at: datetime | None = None
