"""Find agents by short name, plugin entry point or import path.

Built-ins and roles are listed below; third-party packages add agents through the
``ai_conductor.agents`` entry-point group (``name = "package.module:Factory"``); anything else
may be named directly as ``package.module:Factory``. A factory is called with the agent's
:class:`~ai_conductor.spec.AgentConfig` and returns an object with ``execute(task, context)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any, cast

from ai_conductor.errors import UnknownAgentError
from ai_conductor.protocols import Agent, AgentFactory
from ai_conductor.spec import AgentConfig

ENTRY_POINT_GROUP = "ai_conductor.agents"

BUILTINS: dict[str, str] = {
    "noop": "ai_conductor.agents.builtin:NoopAgent",
    "command": "ai_conductor.agents.builtin:CommandAgent",
    "analyzer": "ai_conductor.agents.roles:AnalyzerAgent",
    "implementer": "ai_conductor.agents.roles:ImplementerAgent",
    "refiner": "ai_conductor.agents.roles:RefinerAgent",
}


def _import(target: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
        for part in attr.split(".") if attr else ():
            obj = getattr(obj, part)
    except Exception as exc:  # ImportError, but also ValueError (':x'), TypeError ('.x:y'),
        # or whatever a module raises while it is imported: the spec names it, the user fixes it
        raise UnknownAgentError(
            f"cannot load agent {target!r}: {type(exc).__name__}: {exc}; check the module path "
            "and that the package is installed"
        ) from None
    return obj


class Registry:
    """Agent names to factories: built-ins, then plugins, then import paths."""

    def __init__(self, extra: Mapping[str, str | AgentFactory] | None = None) -> None:
        self._extra = dict(extra or {})

    def names(self) -> dict[str, str]:
        """Every agent name available without an import path, with where it comes from."""
        found = dict(BUILTINS)
        found.update({ep.name: ep.value for ep in _plugins()})
        found.update({k: v if isinstance(v, str) else repr(v) for k, v in self._extra.items()})
        return found

    def factory(self, name: str) -> AgentFactory:
        target: str | AgentFactory | None = self._extra.get(name)
        if target is None:
            target = self.names().get(name)
        if target is None and ":" in name:
            target = name
        if target is None:
            known = ", ".join(sorted(self.names()))
            raise UnknownAgentError(
                f"unknown agent {name!r}; known agents: {known} (or 'package.module:Factory')"
            )
        obj = _import(target) if isinstance(target, str) else target
        if not callable(obj):
            raise UnknownAgentError(f"agent {name!r} ({target!r}) is not callable")
        return cast(AgentFactory, obj)

    def create(self, name: str, config: AgentConfig | None = None) -> Agent:
        """Build the agent ``name`` with ``config``."""
        agent = self.factory(name)(config or AgentConfig())
        if not callable(getattr(agent, "execute", None)):
            raise UnknownAgentError(f"agent {name!r} has no execute(task, context) method")
        return agent

    def is_known(self, name: str) -> bool:
        try:
            self.factory(name)
        except UnknownAgentError:
            return False
        return True

    def input_problems(self, name: str, inputs: Mapping[str, Any]) -> list[str]:
        """Problems with a task's inputs that the agent can see before running (optional hook)."""
        try:
            check = getattr(self.factory(name), "input_problems", None)
        except UnknownAgentError:
            return []
        return list(check(inputs)) if callable(check) else []


@cache
def _plugins() -> tuple[Any, ...]:
    return tuple(entry_points(group=ENTRY_POINT_GROUP))


@cache
def default_registry() -> Registry:
    """The registry of built-ins, installed plugins and import paths."""
    return Registry()
