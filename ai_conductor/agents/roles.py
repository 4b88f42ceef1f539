"""The three roles. Until their implementations land they fail clearly, never with a fake result."""

from __future__ import annotations

from ai_conductor.errors import AgentUnavailable
from ai_conductor.protocols import AgentOutput, TaskContext
from ai_conductor.spec import AgentConfig, TaskSpec


class _UnavailableRole:
    role = ""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    def execute(self, task: TaskSpec, context: TaskContext) -> AgentOutput:
        raise AgentUnavailable(
            f"the {self.role} role is not available yet in this version of ai-conductor "
            f"(task {task.id!r}); use the 'command' agent to run a tool of your choice meanwhile"
        )


class AnalyzerAgent(_UnavailableRole):
    role = "analyzer"


class ImplementerAgent(_UnavailableRole):
    role = "implementer"


class RefinerAgent(_UnavailableRole):
    role = "refiner"
