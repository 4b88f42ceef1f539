"""Flow runs: the one this code runs in (its id, its logger), and runs of deployments."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ai_conductor._prefect._api import sync_client

if TYPE_CHECKING:
    from prefect import Flow
    from prefect.client.schemas.objects import FlowRun

Logger = logging.Logger | logging.LoggerAdapter[logging.Logger]


def in_run() -> bool:
    """True inside a Prefect flow or task run (artifacts and the run logger are available)."""
    from prefect.context import FlowRunContext, TaskRunContext

    return TaskRunContext.get() is not None or FlowRunContext.get() is not None


def in_task_run() -> bool:
    """True inside a Prefect task run."""
    from prefect.context import TaskRunContext

    return TaskRunContext.get() is not None


def current_flow_run_id() -> uuid.UUID | None:
    """The id of the flow run this code runs in, if any."""
    from prefect.context import FlowRunContext

    ctx = FlowRunContext.get()
    return ctx.flow_run.id if ctx is not None and ctx.flow_run is not None else None


def run_logger() -> Logger:
    """The logger of the current flow or task run (its lines go to the run's Logs tab)."""
    from prefect.logging import get_run_logger

    return get_run_logger()


def flow_run_logger(flow_run: FlowRun, flow: Flow[..., Any]) -> Logger:
    """The logger of ``flow_run``, usable from its state-change hooks."""
    from prefect.logging.loggers import flow_run_logger as logger_of

    return logger_of(flow_run, flow)


def deployment_exists(name: str) -> bool:
    """Whether the API has the deployment ``flow-name/deployment-name``."""
    from prefect.exceptions import ObjectNotFound

    try:
        with sync_client() as client:
            client.read_deployment_by_name(name)
    except ObjectNotFound:
        return False
    return True


def deployment_name(deployment_id: uuid.UUID) -> str:
    """The name of the deployment ``deployment_id``."""
    with sync_client() as client:
        return str(client.read_deployment(deployment_id).name)


def start_deployment(name: str, parameters: dict[str, Any]) -> str:
    """Create a flow run of deployment ``name``; return its id at once (no waiting)."""
    from prefect.deployments import run_deployment

    flow_run = run_deployment(name, parameters=parameters, timeout=0)
    return str(flow_run.id)  # type: ignore[union-attr]


def read_flow_run(run_id: str) -> tuple[str, datetime | None, datetime | None, str | None]:
    """(Prefect state type such as ``RUNNING``, start, end, state message) of ``run_id``."""
    with sync_client() as client:
        run = client.read_flow_run(uuid.UUID(run_id))
    state = run.state
    kind = state.type.value if state is not None else "PENDING"
    return kind, run.start_time, run.end_time, state.message if state is not None else None


def cancel_flow_run(run_id: str) -> None:
    """Ask Prefect to cancel flow run ``run_id``."""
    from prefect.states import Cancelling

    with sync_client() as client:
        client.set_flow_run_state(uuid.UUID(run_id), Cancelling(), force=True)
