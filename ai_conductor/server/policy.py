"""What a remote caller (MCP or HTTP) may make the server run.

A workflow spec can run any program through the ``command`` agent, an import-path agent, or an
implementer whose backend is ``command`` (a coding-agent CLI with any argv). From a remote
caller that is remote code execution, so the server refuses them unless the operator opts in
with ``CONDUCTOR_SERVER_ALLOW_COMMANDS=1``. (A task's ``codebase_path`` is already confined to
the codebase by spec validation; the codebase itself to the allowed roots by the caller.)
"""

from __future__ import annotations

from ai_conductor.errors import UsageError
from ai_conductor.settings import Settings
from ai_conductor.spec import WorkflowSpec

HINT = "the server refuses it unless started with CONDUCTOR_SERVER_ALLOW_COMMANDS=1"


def check_backend(backend: str | None, settings: Settings, where: str) -> None:
    """Refuse a program-running implementer backend (``command`` or an import path)."""
    name = (backend or "").strip().lower()
    if not settings.server_allow_commands and (name == "command" or ":" in name):
        raise UsageError(f"{where}: backend {backend!r} runs arbitrary programs; {HINT}")


def check_spec(spec: WorkflowSpec, settings: Settings) -> None:
    """Refuse tasks that run arbitrary programs."""
    for task in spec.tasks:
        config = spec.agents.get(task.agent)
        role = (config.role if config and config.role else task.agent).strip().lower()
        if not settings.server_allow_commands and (role == "command" or ":" in role):
            raise UsageError(f"task {task.id!r}: agent {task.agent!r} runs programs; {HINT}")
        if config is not None:
            check_backend(config.backend, settings, f"agent {task.agent!r}")
