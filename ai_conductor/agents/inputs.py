"""Typed ``inputs`` of the implementer and refiner roles, checked when a spec is validated."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ai_conductor.analysis.models import Severity
from ai_conductor.errors import UsageError


class _Inputs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    test_command: list[str] | None = None
    """The project's test command as an argv list; [] for none; default: detected."""
    test_timeout: float = Field(default=600, gt=0)
    apply: bool = False
    """Apply verified changes to the checkout (refused on conflicting local edits)."""
    test_env: Literal["auto", "isolated", "tox", "nox"] = "auto"
    """Where the tests run: ``auto`` (the project's venv, its tool, else an isolated
    environment under $CONDUCTOR_HOME/envs), ``isolated``, ``tox`` or ``nox``."""
    allow_api_changes: bool = False
    """Keep changes that remove public module-level names (discarded by default)."""
    all_files: bool = False
    """Lift the size limit of one change (20 files, 500 changed lines)."""
    publish: bool = False
    """Push the kept changes on ``conductor/<workflow>/<task>`` and open (or update) one pull
    request (see `conductor implement --help`, ``--publish``)."""
    remote: str = "origin"
    """The git remote publishing pushes to."""
    draft: bool = False
    """Open the pull request as a draft."""
    forge: Literal["github", "gitlab", "gitea"] | None = None
    """The forge; default: ``CONDUCTOR_FORGE``, else from the remote's URL."""
    labels: list[str] = Field(default_factory=lambda: ["ai-conductor"])
    """Labels of the pull request."""

    def publish_options(self) -> Any:
        from ai_conductor.publish.models import PublishOptions

        return PublishOptions(remote=self.remote, draft=self.draft, forge=self.forge,
                              labels=self.labels)  # fmt: skip

    @classmethod
    def problems(cls, inputs: Mapping[str, Any]) -> list[str]:
        try:
            cls.model_validate(dict(inputs))
        except ValidationError as exc:
            return [
                f"inputs.{'.'.join(map(str, e['loc'])) or '?'}: {e['msg']}" for e in exc.errors()
            ]
        return []

    @classmethod
    def parse(cls, task_id: str, inputs: Mapping[str, Any]) -> Any:
        problems = cls.problems(inputs)
        if problems:
            raise UsageError(f"task {task_id!r}: " + "; ".join(problems))
        return cls.model_validate(dict(inputs))


class BudgetInputs(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    max_tokens: int | None = Field(default=None, ge=1)
    max_cost_usd: float | None = Field(default=None, ge=0)
    max_seconds: float | None = Field(default=None, gt=0)


class ImplementInputs(_Inputs):
    analysis: str | None = None
    """Path of an analysis.json; default: the upstream analyzer task's output."""
    focus: list[str] = Field(default_factory=list)
    attempts: int = Field(default=3, ge=1, le=10)
    min_severity: Severity = Severity.LOW
    optimization_level: Literal["conservative", "balanced", "aggressive"] | None = None
    """The seed's knob: the lowest severity fixed when ``min_severity`` is not given
    (conservative: high, balanced: medium, aggressive: low)."""
    group_by: Literal["file", "rule"] = "file"
    concurrency: int = Field(default=2, ge=1, le=32)
    """Changes worked on at once, each in its own worktree."""
    budget: BudgetInputs = Field(default_factory=BudgetInputs)

    @field_validator("focus", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _level(self) -> ImplementInputs:
        if self.optimization_level and "min_severity" not in self.model_fields_set:
            self.min_severity = LEVELS[self.optimization_level]
        return self


LEVELS = {"conservative": Severity.HIGH, "balanced": Severity.MEDIUM, "aggressive": Severity.LOW}


class RefineInputs(_Inputs):
    since: str | None = None
    """Tidy only the files changed between this git ref and HEAD."""
    analysis: str | None = None
    """Tidy only the files with findings in this analysis.json (default: the upstream
    analyzer task's output, when the task depends on one)."""
    stack: str | None = None
    """Review dependencies and configuration for this stack (see `conductor refine --help`)."""

    @field_validator("stack")
    @classmethod
    def _known_stack(cls, value: str | None) -> str | None:
        from ai_conductor.errors import UsageError
        from ai_conductor.refine.stack import stack_checks

        if value is None:
            return None
        try:
            return stack_checks(value)[0]  # the CLI's normalisation: Python-Postgres works too
        except UsageError as exc:
            raise ValueError(str(exc)) from None

    tidy: bool = True
    types: bool = True
