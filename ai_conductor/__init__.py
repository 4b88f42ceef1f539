"""ai-conductor: audit codebases and improve them with AI agents, orchestrated by Prefect.

The public Python API::

    from ai_conductor import run_spec
    result = run_spec("workflows/demo.yaml", codebase="examples/sample_project")
    print(result.status, result.results)

Importing the package is cheap: each public name loads its module on first use (PEP 562), so
``import ai_conductor`` (and the ``conductor`` command's start-up) pulls in neither the audit
store nor SQLAlchemy nor Prefect. Type checkers and ``dir()`` see every name.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_HOMES = {
    "ai_conductor.api": ("AgentRole", "TaskDefinition", "WorkflowConductor", "Workflowconductor",
                         "WorkflowContext", "audit_fleet", "run_spec"),
    "ai_conductor.errors": ("AgentError", "ConductorError", "ConfigError", "OrchestrationError",
                            "SpecError", "SpecProblem", "StoreError", "UsageError",
                            "WorkflowFailed"),
    "ai_conductor.protocols": ("Agent", "TaskContext"),
    "ai_conductor.results": ("RunStatus", "TaskOutcome", "TaskStatus", "WorkflowResult"),
    "ai_conductor.settings": ("Settings", "get_settings"),
    "ai_conductor.spec": ("AgentConfig", "TaskSpec", "WorkflowSettings", "WorkflowSpec",
                          "load_spec"),
}  # fmt: skip
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Agent",
    "AgentConfig",
    "AgentError",
    "AgentRole",
    "ConductorError",
    "ConfigError",
    "OrchestrationError",
    "RunStatus",
    "Settings",
    "SpecError",
    "SpecProblem",
    "StoreError",
    "TaskContext",
    "TaskDefinition",
    "TaskOutcome",
    "TaskSpec",
    "TaskStatus",
    "UsageError",
    "WorkflowConductor",
    "WorkflowContext",
    "WorkflowFailed",
    "WorkflowResult",
    "WorkflowSettings",
    "WorkflowSpec",
    "Workflowconductor",
    "audit_fleet",
    "get_settings",
    "load_spec",
    "run_spec",
]

if TYPE_CHECKING:
    from ai_conductor.api import (
        AgentRole,
        TaskDefinition,
        WorkflowConductor,
        Workflowconductor,
        WorkflowContext,
        audit_fleet,
        run_spec,
    )
    from ai_conductor.errors import (
        AgentError,
        ConductorError,
        ConfigError,
        OrchestrationError,
        SpecError,
        SpecProblem,
        StoreError,
        UsageError,
        WorkflowFailed,
    )
    from ai_conductor.protocols import Agent, TaskContext
    from ai_conductor.results import RunStatus, TaskOutcome, TaskStatus, WorkflowResult
    from ai_conductor.settings import Settings, get_settings
    from ai_conductor.spec import AgentConfig, TaskSpec, WorkflowSettings, WorkflowSpec, load_spec

    __version__: str
else:

    def __getattr__(name: str) -> Any:
        """Load a public name's module on first use and keep the name here."""
        if name == "__version__":
            from ai_conductor._version import package_version

            value: Any = package_version()
        elif name in _MODULE_OF:
            value = getattr(import_module(_MODULE_OF[name]), name)
        else:
            raise AttributeError(f"module 'ai_conductor' has no attribute {name!r}")
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, "__version__"})
