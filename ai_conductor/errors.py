"""Every error ai-conductor raises on purpose derives from :class:`ConductorError`.

Hierarchy::

    ConductorError                 root; ``exit_code`` says what the CLI exits with
    ├── UsageError                 bad input from the user (exit 2)
    │   ├── SpecError              a workflow spec that cannot run; carries ``problems``
    │   ├── ConfigError            bad settings or environment
    │   │   └── UnknownPluginError a component name (agent, analyzer tool, implementer backend,
    │   │       │                  context store, forge) that no built-in, entry point or import
    │   │       │                  path provides, or that names something of the wrong shape
    │   │       └── UnknownAgentError   the same for an agent
    │   └── PublishRefused         publishing would overwrite commits the conductor did not make
    ├── AgentError                 an agent could not do its job (exit 3); ``retryable`` says
    │   │                          whether trying again may help
    │   ├── AgentUnavailable       the agent exists but cannot run here (not retryable)
    │   ├── AgentTimeout           the agent ran past its deadline (retryable)
    │   ├── AgentCancelled         the run was stopped while the agent worked (not retryable)
    │   ├── CoverageTooLow         an analyzer tool read less than the task's min_coverage
    │   └── CommandFailed          a command exited non-zero (retryable)
    ├── AnalysisToolError          an analyzer tool crashed or printed unreadable output (exit 3)
    ├── ProjectEnvironmentError    the project's test environment could not be found or built
    │                              (exit 3): names the command and the tail of its output
    ├── StoreError                 the audit log or a context store failed (exit 3)
    ├── ForgeError                 a forge (GitHub, GitLab, Gitea) or a push refused a call (exit 3)
    ├── OrchestrationError         the Prefect API would not start or track a run (exit 3)
    └── WorkflowFailed             a run ended with failed, skipped or timed-out tasks (exit 3)

Messages say what went wrong, where, and how to fix it; they never contain secrets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ai_conductor.results import WorkflowResult


class ConductorError(Exception):
    """Root of every error ai-conductor raises on purpose."""

    exit_code: int = 3


class UsageError(ConductorError):
    """The user asked for something that cannot work; fixing the input fixes it."""

    exit_code = 2


@dataclass(frozen=True)
class SpecProblem:
    """One thing wrong with a spec: where it is and what to change."""

    message: str
    location: str = ""
    """Dotted path inside the spec, e.g. ``tasks[2].dependencies``."""
    line: int | None = None
    column: int | None = None
    hint: str = ""

    def render(self, source: str = "") -> str:
        where = source
        if self.line is not None:
            where += f":{self.line}" + (f":{self.column}" if self.column is not None else "")
        head = f"{where}: " if where else ""
        at = f"{self.location}: " if self.location else ""
        tail = f" ({self.hint})" if self.hint else ""
        return f"{head}{at}{self.message}{tail}"


class SpecError(UsageError):
    """A workflow spec failed to load or validate; nothing has run."""

    def __init__(self, source: str, problems: list[SpecProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(self.render())

    def render(self) -> str:
        lines = [p.render(self.source) for p in self.problems]
        noun = "problem" if len(lines) == 1 else "problems"
        return f"invalid workflow spec ({len(lines)} {noun}):\n" + "\n".join(
            f"  {line}" for line in lines
        )


class SpecWarning(UserWarning):
    """A spec that validates but probably does not say what its author meant (it still runs)."""


class ConfigError(UsageError):
    """Settings, environment or a referenced block are wrong."""


class UnknownPluginError(ConfigError):
    """A component name no built-in, installed plugin or import path of its family provides,
    or one that names something without the family's protocol (see ``ai_conductor._plugins``)."""


class UnknownAgentError(UnknownPluginError):
    """No registered agent, plugin or import path matches a name."""


class PublishRefused(UsageError):
    """The remote branch holds commits the conductor did not make: it is never overwritten."""

    retryable = False


class AgentError(ConductorError):
    """An agent failed while executing a task."""

    retryable: bool = True


class AgentUnavailable(AgentError):
    """The agent is known but cannot run (not built yet, binary missing, disabled)."""

    retryable = False


class AgentTimeout(AgentError):
    """The agent exceeded the task's time limit and was stopped."""


class AgentCancelled(AgentError):
    """The run was stopped (workflow timeout or cancel) while the agent was working."""

    retryable = False


class CoverageTooLow(AgentError):
    """An analyzer tool read less of the codebase than the task's ``min_coverage`` asks."""

    retryable = False


class CommandFailed(AgentError):
    """A command agent's process exited with a non-zero status."""

    def __init__(self, message: str, *, exit_code: int, stdout: str, stderr: str) -> None:
        super().__init__(message)
        self.returncode = exit_code
        self.stdout = stdout
        self.stderr = stderr


class AnalysisToolError(ConductorError):
    """An analyzer tool failed to run or produced output that cannot be read."""


class ProjectEnvironmentError(ConductorError):
    """The environment the project's tests run in could not be built or is unfit (e.g. its
    ``.venv`` lacks the test runner); nothing was attempted, so no change was discarded."""


class StoreError(ConductorError):
    """The audit log or a context store could not be reached or written."""


class ForgeError(ConductorError):
    """A forge's API or a git push failed; the message names the call and the platform's
    reason, never the token. Not retried by the workflow (that would redo the whole step)."""

    retryable = False


class OrchestrationError(ConductorError):
    """The Prefect API refused or failed a call the run needs (e.g. 503 from a busy server)."""


class WorkflowFailed(ConductorError):
    """A workflow run finished, but not every task completed."""

    def __init__(self, result: WorkflowResult) -> None:
        self.result = result
        super().__init__(result.summary_line())
