"""Runs as flow runs of Prefect deployments, when a Prefect API is configured.

The server then only creates flow runs (``run_deployment(..., timeout=0)``) and reads their
state back; Prefect's workers do the work. The flow run id is the run id. Workers get the
resolved absolute codebase and the validated spec inline, never a path to resolve or re-read
(their working directory and files are not the ones the server checked).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Final

from ai_conductor.server.params import ServerRunStatus

log = logging.getLogger("ai_conductor.server")

DEPLOYMENTS: Final[dict[str, str]] = {
    "workflow": "conductor-workflow/run-workflow",
    "analyze": "conductor-audit/audit",
}
"""Deployment per run kind (``flow-name/deployment-name``); kinds without one run locally."""

_STATUS: Final[dict[str, ServerRunStatus]] = {
    "SCHEDULED": "pending",
    "PENDING": "pending",
    "PAUSED": "pending",
    "RUNNING": "running",
    "CANCELLING": "running",
    "COMPLETED": "completed",
    "FAILED": "failed",
    "CRASHED": "failed",
    "CANCELLED": "cancelled",
}


def api_configured() -> bool:
    """True when Prefect is pointed at a server (``PREFECT_API_URL``)."""
    from ai_conductor._prefect import api_configured as configured

    return configured()


def find_deployment(kind: str) -> str | None:
    """The deployment that runs ``kind``, when the Prefect API has it."""
    name = DEPLOYMENTS.get(kind)
    if name is None or not api_configured():
        return None
    from ai_conductor._prefect import deployment_exists

    try:
        found = deployment_exists(name)
    except Exception as exc:  # an unreachable API: run in this process instead
        log.warning("cannot look up deployment %s (%s); running locally", name, type(exc).__name__)
        return None
    return name if found else None


def flow_parameters(request: dict[str, Any]) -> dict[str, Any]:
    """The deployment's parameters: the run's checked request (resolved absolute paths, an
    inline validated spec; see :class:`~ai_conductor.server._execute.Prepared`)."""
    return {"request": {k: v for k, v in request.items() if v is not None}}


def start(deployment: str, request: dict[str, Any]) -> str:
    """Create a flow run of ``deployment`` for ``request``; return its id at once."""
    from ai_conductor._prefect import start_deployment

    return start_deployment(deployment, flow_parameters(request))


def read(run_id: str) -> tuple[ServerRunStatus, datetime | None, datetime | None, str | None]:
    """(status, started_at, finished_at, error message) of flow run ``run_id``."""
    from ai_conductor._prefect import read_flow_run

    kind, started, finished, message = read_flow_run(run_id)
    status = _STATUS.get(kind, "running")
    return status, started, finished, message if status == "failed" else None


def cancel(run_id: str) -> None:
    """Ask Prefect to cancel flow run ``run_id``."""
    from ai_conductor._prefect import cancel_flow_run

    cancel_flow_run(run_id)
