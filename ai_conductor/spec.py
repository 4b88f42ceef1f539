"""Workflow specs: pydantic models, loading from YAML or JSON, validation before anything runs.

Field names are a contract (see DESIGN.md). ``load_spec`` returns a validated :class:`WorkflowSpec`
or raises :class:`~ai_conductor.errors.SpecError` listing every problem with its line.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    model_validator,
)

from ai_conductor._specsource import Located, parse_document, problems_from_validation
from ai_conductor.errors import SpecError, SpecProblem, SpecWarning

if TYPE_CHECKING:
    from ai_conductor.protocols import AgentCatalog

ID_PATTERN = r"^[A-Za-z0-9_-]+$"

# The seed names its agents after products; they map onto our roles.
ROLE_ALIASES: dict[str, str] = {
    "eigencode": "analyzer",
    "cursor": "implementer",
    "cursor_ai": "implementer",
    "roo": "refiner",
    "roo_code": "refiner",
}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class WorkflowSettings(_Model):
    """Run-wide settings: the seed's ``conductor:`` section."""

    workflow_timeout: float | None = Field(default=None, gt=0)
    """Seconds the whole run may take; unfinished tasks are stopped and the run fails."""
    max_parallel_tasks: int = Field(default=5, ge=1, le=256)
    """How many tasks run at once (the width of the Prefect task runner)."""
    checkpoint_interval: float | None = Field(default=None, ge=0)
    """Accepted for seed compatibility; results are persisted after every task anyway."""


class AgentConfig(_Model):
    """Configuration of one role or named agent (the spec's ``agents:`` section)."""

    role: str | None = None
    """What this agent runs: a role, a built-in (noop, command), a plugin, or 'pkg.mod:Factory'.
    Defaults to the agent's own name (or its seed alias: eigencode -> analyzer)."""
    enabled: bool = True
    """A disabled agent's tasks are skipped."""
    backend: str | None = None
    """Backend inside the role (builtin, openai, anthropic, command)."""
    timeout: float | None = Field(default=None, gt=0)
    """Seconds one attempt may take before the agent is stopped."""
    retry_attempts: int = Field(default=0, ge=0, le=20)
    """How many times a failed attempt is retried (so 3 means up to 4 attempts)."""
    retry_delay: float = Field(default=1.0, ge=0)
    """Base delay in seconds of the exponential backoff between retries."""
    options: dict[str, Any] = Field(default_factory=dict)
    """Backend-specific settings (model, base_url, ...)."""


class TaskSpec(_Model):
    """One task of a workflow."""

    id: str = Field(pattern=ID_PATTERN, validation_alias=AliasChoices("id", "task_id"))
    """Unique id: letters, digits, '-' and '_'."""
    name: str = ""
    """Display name; defaults to the id."""
    agent: str = Field(validation_alias=AliasChoices("agent", "agent_role"))
    """A role, a built-in, an agent named in ``agents:``, a plugin, or 'pkg.mod:Factory'."""
    description: str = ""
    inputs: dict[str, Any] = Field(default_factory=dict)
    """Handed to the agent; ``codebase_path`` defaults to the workflow's codebase."""
    dependencies: list[str] = Field(default_factory=list)
    """Tasks that must complete first; their outputs are handed to this one."""
    timeout: float | None = Field(default=None, gt=0)
    """Overrides the agent's timeout for this task."""
    retry_attempts: int | None = Field(default=None, ge=0, le=20)
    """Overrides the agent's retry_attempts for this task."""

    @property
    def display_name(self) -> str:
        return self.name or self.id


class WorkflowSpec(_Model):
    """A workflow: tasks, the agents they use, and run-wide settings."""

    workflow_id: str = Field(
        pattern=ID_PATTERN, validation_alias=AliasChoices("workflow_id", "name")
    )
    description: str = ""
    codebase: str = "."
    """Default codebase for every task (a relative path resolves against the working directory;
    ``--codebase`` overrides it)."""
    settings: WorkflowSettings = Field(
        default_factory=WorkflowSettings, validation_alias=AliasChoices("settings", "conductor")
    )
    agents: dict[str, AgentConfig] = Field(default_factory=dict)
    tasks: list[TaskSpec] = Field(default_factory=list)
    _warnings: tuple[str, ...] = PrivateAttr(default=())

    @property
    def warnings(self) -> tuple[str, ...]:
        """What validates but is probably not what the author meant, one line each with the
        file, line and fix (e.g. a sentence a ``{...}`` mapping split into null-valued keys)."""
        return self._warnings

    @model_validator(mode="after")
    def _warn_compat(self) -> WorkflowSpec:
        if self.settings.checkpoint_interval is not None:
            warnings.warn(
                "settings.checkpoint_interval is accepted for compatibility and ignored: "
                "every task's result is persisted as soon as it completes",
                stacklevel=2,
            )
        return self

    def task(self, task_id: str) -> TaskSpec:
        return next(t for t in self.tasks if t.id == task_id)

    def agent_config(self, name: str) -> tuple[str, AgentConfig]:
        """The registry name and the effective config for an agent name used by a task."""
        config = self.agents.get(name)
        if config is None:
            return ROLE_ALIASES.get(name, name), AgentConfig()
        return config.role or ROLE_ALIASES.get(name, name), config


def load_spec(path: str | Path, catalog: AgentCatalog | None = None) -> WorkflowSpec:
    """Read, parse and validate a YAML or JSON spec file.

    Each of the spec's :attr:`~WorkflowSpec.warnings` is also issued as a :class:`SpecWarning`.
    """
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(str(p), [SpecProblem("file not found", hint="check the path")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(str(p), [SpecProblem(f"cannot read the file: {exc}")]) from None
    spec = parse_spec(text, source=str(p), catalog=catalog, default_id=p.stem)
    for warning in spec.warnings:
        warnings.warn(warning, SpecWarning, stacklevel=2)
    return spec


def parse_spec(
    text: str,
    source: str = "<spec>",
    catalog: AgentCatalog | None = None,
    default_id: str | None = None,
) -> WorkflowSpec:
    """Parse spec text (JSON when it starts with '{', else YAML) and validate it.

    ``default_id`` names a workflow whose spec has no ``workflow_id`` (files use their stem, so
    the seed's ``conductor_config.yaml`` loads unchanged).
    """
    doc = parse_document(text, source)
    data = doc.data
    if default_id and isinstance(data, Mapping) and not {"workflow_id", "name"} & data.keys():
        data = {"workflow_id": re.sub(r"[^A-Za-z0-9_-]", "-", default_id), **data}
    return validate_data(data, source=source, located=doc, catalog=catalog)


def validate_data(
    data: Any,
    source: str = "<spec>",
    located: Located | None = None,
    catalog: AgentCatalog | None = None,
) -> WorkflowSpec:
    """Validate already-parsed data (a dict) into a spec, checking the task graph too."""
    if not isinstance(data, Mapping):
        raise SpecError(source, [SpecProblem("a workflow spec must be a mapping of keys")])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            spec = WorkflowSpec.model_validate(data)
    except ValidationError as exc:
        raise SpecError(source, problems_from_validation(exc, located)) from None
    problems = check_graph(spec, catalog)
    if problems:
        if located is not None:
            problems = [located.place(p) for p in problems]
        raise SpecError(source, problems)
    if located is not None and located.warnings:
        spec._warnings = tuple(p.render(source) for p in located.warnings)
    return spec


def names_own_codebase(codebase_path: str) -> bool:
    """Whether a task's ``codebase_path`` names a codebase of its own (an absolute path, or one
    starting with ``~``) rather than a folder inside the workflow's codebase."""
    return codebase_path.startswith("~") or PurePath(codebase_path).is_absolute()


def _codebase_path_problems(task: TaskSpec, i: int) -> list[SpecProblem]:
    """``codebase_path`` is a folder inside the codebase, or (absolute) the task's own codebase:
    a relative path must not climb out with ``..``. Local callers run what they name; the
    server confines an absolute one to its allowed roots."""
    sub_dir = task.inputs.get("codebase_path")
    if sub_dir is None or (
        isinstance(sub_dir, str)
        and (names_own_codebase(sub_dir) or ".." not in PurePath(sub_dir).parts)
    ):
        return []
    return [
        SpecProblem(
            f"codebase_path {sub_dir!r} must be a folder inside the codebase (like 'src') or "
            "the absolute path of the task's own codebase",
            f"tasks[{i}].inputs.codebase_path",
            hint="a relative path cannot climb out with '..': give the other codebase's "
            "absolute path instead, or point --codebase elsewhere",
        )
    ]


def check_graph(spec: WorkflowSpec, catalog: AgentCatalog | None = None) -> list[SpecProblem]:
    """Duplicate ids, unknown dependencies, cycles, unknown agents and agents' input checks.

    ``catalog`` defaults to the agent registry (built-ins, plugins, import paths).
    """
    from ai_conductor._graph import find_cycle

    if catalog is None:
        from ai_conductor.agents.registry import default_registry

        catalog = default_registry()

    problems: list[SpecProblem] = []
    seen: dict[str, int] = {}
    for i, task in enumerate(spec.tasks):
        if task.id in seen:
            problems.append(
                SpecProblem(
                    f"duplicate task id {task.id!r} (first used by tasks[{seen[task.id]}])",
                    f"tasks[{i}].id",
                    hint="give every task its own id",
                )
            )
        seen.setdefault(task.id, i)
    for i, task in enumerate(spec.tasks):
        for j, dep in enumerate(task.dependencies):
            if dep not in seen:
                problems.append(
                    SpecProblem(
                        f"unknown dependency {dep!r}",
                        f"tasks[{i}].dependencies[{j}]",
                        hint=f"known task ids: {', '.join(sorted(seen)) or 'none'}",
                    )
                )
            elif dep == task.id:
                problems.append(
                    SpecProblem("a task cannot depend on itself", f"tasks[{i}].dependencies[{j}]")
                )
        problems.extend(_codebase_path_problems(task, i))
        name, _ = spec.agent_config(task.agent)
        if task.agent in spec.agents or catalog.is_known(name):
            problems.extend(
                SpecProblem(msg, f"tasks[{i}].inputs", hint="see the agent's documentation")
                for msg in catalog.input_problems(name, task.inputs)
            )
        else:
            problems.append(
                SpecProblem(
                    f"unknown agent {task.agent!r}",
                    f"tasks[{i}].agent",
                    hint="use a role (analyzer, implementer, refiner), noop, command, "
                    "an agent named under 'agents:', a plugin, or 'package.module:Factory'",
                )
            )
    for name, config in spec.agents.items():
        registry_name = config.role or ROLE_ALIASES.get(name, name)
        if not catalog.is_known(registry_name):
            problems.append(
                SpecProblem(
                    f"agent {name!r} runs {registry_name!r}, which is not a known agent",
                    f"agents.{name}.role" if config.role else f"agents.{name}",
                    hint="set 'role:' to a role, a built-in, a plugin or 'package.module:Factory'",
                )
            )
    graph = {t.id: [d for d in t.dependencies if d in seen and d != t.id] for t in spec.tasks}
    cycle = find_cycle(graph)
    if cycle:
        first = next(i for i, t in enumerate(spec.tasks) if t.id == cycle[0])
        problems.append(
            SpecProblem(
                "dependency cycle: " + " -> ".join(cycle),
                f"tasks[{first}].dependencies",
                hint="remove one of these dependencies",
            )
        )
    return problems
