"""The project's Prefect deployments (prefect.yaml): checked, served, deployed.

- :func:`check_project`: every problem that would make ``prefect deploy`` or ``prefect.serve``
  fail or misbehave (file, entrypoints, parameters, schedules, server, work pools).
- :func:`load_project` / :func:`read_project`: prefect.yaml as typed models.
- :func:`runner_deployments` / :func:`serve_project`: ``RunnerDeployment``s for ``prefect.serve``.
- :func:`create_pools`: the work pools the deployments name, as process pools.

``conductor serve`` and ``conductor deploy`` are the command-line faces of this package.
"""

from ai_conductor.deployments.checks import check_project, schedule_problems
from ai_conductor.deployments.entrypoints import EntrypointError, load_flow, parameter_problems
from ai_conductor.deployments.project import (
    DeploymentEntry,
    PrefectProject,
    Problem,
    ScheduleEntry,
    WorkPoolEntry,
    load_project,
    read_project,
)
from ai_conductor.deployments.server import api_problems, api_url, create_pools, pool_problems
from ai_conductor.deployments.serving import runner_deployments, serve_project, to_prefect_schedule

__all__ = [
    "DeploymentEntry",
    "EntrypointError",
    "PrefectProject",
    "Problem",
    "ScheduleEntry",
    "WorkPoolEntry",
    "api_problems",
    "api_url",
    "check_project",
    "create_pools",
    "load_flow",
    "load_project",
    "parameter_problems",
    "pool_problems",
    "read_project",
    "runner_deployments",
    "schedule_problems",
    "serve_project",
    "to_prefect_schedule",
]
