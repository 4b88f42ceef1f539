"""Runs as flow runs of Prefect deployments, when a Prefect API is configured.

The server then only creates flow runs (``run_deployment(..., timeout=0)``) and reads their
state back; Prefect's workers do the work. The flow run id is the run id. Workers get the
resolved absolute codebase and the validated spec inline, never a path to resolve or re-read
(their working directory and files are not the ones the server checked).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any, Final

log = logging.getLogger("ai_conductor.server")

DEPLOYMENTS: Final[dict[str, str]] = {
    "workflow": "conductor-workflow/run-workflow",
    "analyze": "conductor-audit/audit",
}
"""Deployment per run kind (``flow-name/deployment-name``); kinds without one run locally."""

_STATUS: Final[dict[str, str]] = {
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
    from prefect.settings import PREFECT_API_URL

    return bool(PREFECT_API_URL.value())


def find_deployment(kind: str) -> str | None:
    """The deployment that runs ``kind``, when the Prefect API has it."""
    name = DEPLOYMENTS.get(kind)
    if name is None or not api_configured():
        return None
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    try:
        with get_client(sync_client=True) as client:
            client.read_deployment_by_name(name)
    except ObjectNotFound:
        return None
    except Exception as exc:  # an unreachable API: run in this process instead
        log.warning("cannot look up deployment %s (%s); running locally", name, type(exc).__name__)
        return None
    return name


def flow_parameters(request: dict[str, Any]) -> dict[str, Any]:
    """The deployment's parameters: the run's checked request (resolved absolute paths, an
    inline validated spec; see :class:`~ai_conductor.server._execute.Prepared`)."""
    return {"request": {k: v for k, v in request.items() if v is not None}}


def start(deployment: str, request: dict[str, Any]) -> str:
    """Create a flow run of ``deployment`` for ``request``; return its id at once."""
    from prefect.deployments import run_deployment

    flow_run = run_deployment(deployment, parameters=flow_parameters(request), timeout=0)
    return str(flow_run.id)  # type: ignore[union-attr]


def read(run_id: str) -> tuple[str, datetime | None, datetime | None, str | None]:
    """(status, started_at, finished_at, error message) of flow run ``run_id``."""
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        run = client.read_flow_run(uuid.UUID(run_id))
    state = run.state
    kind = state.type.value if state is not None else "PENDING"
    status = _STATUS.get(kind, "running")
    error = state.message if state is not None and status == "failed" else None
    return status, run.start_time, run.end_time, error


def cancel(run_id: str) -> None:
    """Ask Prefect to cancel flow run ``run_id``."""
    from prefect.client.orchestration import get_client
    from prefect.states import Cancelling

    with get_client(sync_client=True) as client:
        client.set_flow_run_state(uuid.UUID(run_id), Cancelling(), force=True)
