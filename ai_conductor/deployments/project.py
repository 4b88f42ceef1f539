"""prefect.yaml as typed models: read with anchors, aliases and ``<<`` merges resolved.

Only what ``conductor serve`` and the checks use is modelled; other keys of a deployment
(``version``, ``triggers``, ``pull`` ...) are ignored here and left to ``prefect deploy``.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ai_conductor._paths import expand_user
from ai_conductor.errors import ConfigError


class Problem(BaseModel, frozen=True, use_attribute_docstrings=True):
    """One thing that stops the deployments from being served or deployed, and what to do."""

    message: str
    deployment: str | None = None
    """The deployment it concerns; None for the file, the server or the work pool."""
    hint: str = ""

    def render(self) -> str:
        head = f"{self.deployment}: " if self.deployment else ""
        return head + self.message + (f" ({self.hint})" if self.hint else "")


class ScheduleEntry(BaseModel, use_attribute_docstrings=True):
    """One item of a deployment's ``schedules`` (the keys ``prefect deploy`` accepts)."""

    model_config = ConfigDict(extra="forbid")

    cron: str | None = None
    interval: timedelta | None = None
    """Seconds, or an ISO-8601 duration."""
    rrule: str | None = None
    timezone: str | None = None
    """IANA name, e.g. ``Europe/Berlin``; cron and rrule times are local to it (default UTC)."""
    anchor_date: str | None = None
    day_or: bool | None = None
    active: bool = True
    parameters: dict[str, Any] = Field(default_factory=dict)
    """Parameters for this schedule's runs, over the deployment's."""
    slug: str | None = None
    replaces: str | None = None

    def describe(self) -> str:
        """``cron 0 2 * * * UTC``: for messages and listings."""
        what = (
            f"cron {self.cron}" if self.cron else
            f"every {self.interval}" if self.interval else f"rrule {self.rrule}"
        )  # fmt: skip
        return f"{what} {self.timezone or 'UTC'}" + ("" if self.active else " (inactive)")


class WorkPoolEntry(BaseModel):
    """A deployment's ``work_pool``: where ``prefect deploy`` sends its runs."""

    model_config = ConfigDict(extra="ignore")

    name: str | None = None
    work_queue_name: str | None = None
    job_variables: dict[str, Any] = Field(default_factory=dict)


class DeploymentEntry(BaseModel, use_attribute_docstrings=True):
    """One item of ``deployments``."""

    model_config = ConfigDict(extra="ignore")

    name: str = Field(min_length=1)
    entrypoint: str = Field(min_length=1)
    """``path/to/file.py:flow_function``, relative to the directory of prefect.yaml."""
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    schedules: list[ScheduleEntry] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    work_pool: WorkPoolEntry | None = None
    paused: bool | None = None


class PrefectProject(BaseModel):
    """A prefect.yaml file and the deployments it defines."""

    path: Path
    """The prefect.yaml file (absolute)."""
    deployments: list[DeploymentEntry]

    @property
    def directory(self) -> Path:
        """Where entrypoints and relative paths start: the directory of prefect.yaml."""
        return self.path.parent

    def select(self, names: list[str] | tuple[str, ...] = ()) -> list[DeploymentEntry]:
        """The deployments named (all of them when ``names`` is empty), in file order."""
        return [d for d in self.deployments if not names or d.name in names]


def read_project(path: Path) -> tuple[PrefectProject | None, list[Problem]]:
    """Parse ``path``; every problem found (the project is None when the file is unusable)."""
    path = expand_user(path).resolve()
    if not path.is_file():
        hint = "run from the project root or pass --prefect-file PATH"
        return None, [Problem(message=f"{path} does not exist", hint=hint)]
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return None, [Problem(message=f"{path} is not valid YAML: {_yaml_reason(exc)}")]
    items = raw.get("deployments") if isinstance(raw, dict) else None
    if not isinstance(items, list) or not items:
        return None, [Problem(message=f"{path} has no 'deployments' list")]
    deployments, problems = [], []
    for index, item in enumerate(items):
        label = item.get("name") if isinstance(item, dict) else None
        try:
            deployments.append(DeploymentEntry.model_validate(item))
        except ValidationError as exc:
            for err in exc.errors():
                where = ".".join(str(p) for p in err["loc"]) or "entry"
                problems.append(Problem(deployment=str(label or f"deployments[{index}]"),
                                        message=f"{where}: {err['msg']}"))  # fmt: skip
    return PrefectProject(path=path, deployments=deployments), problems


def load_project(path: Path) -> PrefectProject:
    """The project at ``path``; :class:`ConfigError` listing every problem when it is unusable."""
    project, problems = read_project(path)
    if problems or project is None:
        raise ConfigError("\n".join(p.render() for p in problems))
    return project


def _yaml_reason(exc: Exception) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem
