"""ai-conductor: audit codebases and improve them with AI agents, orchestrated by Prefect.

The public Python API::

    from ai_conductor import run_spec
    result = run_spec("workflows/demo.yaml", codebase="examples/sample_project")
    print(result.status, result.results)

Importing the package is cheap: Prefect is imported only when a workflow runs.
"""

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

__version__ = "0.1.0"

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
