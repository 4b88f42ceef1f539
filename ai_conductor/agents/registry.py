"""Find agents by short name, plugin entry point or import path.

Built-ins and roles are listed below; third-party packages add agents through the
``ai_conductor.agents`` entry-point group (``name = "package.module:Factory"``); anything else
may be named directly as ``package.module:Factory`` (the plugin loader, ``ai_conductor._plugins``).
A factory is called with the agent's :class:`~ai_conductor.spec.AgentConfig` and returns an
object with ``execute(task, context)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, cast

from ai_conductor._plugins import Family, checked, load, names
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
FAMILY = Family(
    "agent", ENTRY_POINT_GROUP, BUILTINS, Agent, factory=True, loose=False,
    error=UnknownAgentError,
)  # fmt: skip
"""For the plugin loader: the built-ins above, plugins, import paths (names are exact)."""


class Registry:
    """Agent names to factories: ``extra`` names, then plugins, built-ins and import paths."""

    def __init__(self, extra: Mapping[str, str | AgentFactory] | None = None) -> None:
        self._extra = dict(extra or {})

    def names(self) -> dict[str, str]:
        """Every agent name available without an import path, with where it comes from."""
        found = names(FAMILY)
        found.update({k: v if isinstance(v, str) else repr(v) for k, v in self._extra.items()})
        return found

    def factory(self, name: str) -> AgentFactory:
        target = self._extra.get(name, name)
        return cast(AgentFactory, load(FAMILY, target) if isinstance(target, str) else target)

    def create(self, name: str, config: AgentConfig | None = None) -> Agent:
        """Build the agent ``name`` with ``config``."""
        return cast(Agent, checked(FAMILY, name, self.factory(name)(config or AgentConfig())))

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
def default_registry() -> Registry:
    """The registry of built-ins, installed plugins and import paths."""
    return Registry()
