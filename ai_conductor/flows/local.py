"""The in-process workflow run: the workflow flow in this thread, waited for.

``run_spec`` (the Python API) and the server's in-process workflow runs both come here. Callers
apply :func:`ai_conductor._prefect_env.quiet_prefect_defaults` before importing this module
(it imports Prefect).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

from ai_conductor import _prefect, _runtime
from ai_conductor.errors import ConductorError, OrchestrationError
from ai_conductor.flows.workflow import RunRequest, workflow_flow
from ai_conductor.results import WorkflowResult
from ai_conductor.settings import get_settings


def run_workflow_here(request: RunRequest, *, flow_run_name: str) -> WorkflowResult:
    """Run ``request`` (its ``run_id`` set) as a flow run named ``flow_run_name``; its result.

    Raises ``OrchestrationError`` when the Prefect API fails, and the error that ended the run
    (a ``ConductorError``) when the flow produced no result."""
    run_id = str(request.run_id)
    handle = _runtime.open_run(run_id)
    try:
        flow = workflow_flow.with_options(flow_run_name=flow_run_name)
        with _prefect.local_flow_settings():
            state: Any = call_prefect(lambda: flow(request, return_state=True))
        result = handle.result
        if result is None:
            error = state.result(raise_on_failure=False)
            if isinstance(error, ConductorError):
                raise error
            raise ConductorError(f"the workflow run crashed: {state.message or error}")
    finally:
        _runtime.close_run(run_id)
    return result


def call_prefect(call: Callable[[], object]) -> object:
    """``call()``, with the Prefect API's own failures (before the flow body runs, e.g. a 503
    while creating the flow run) turned into an :class:`OrchestrationError` that says what to do."""
    import httpx

    api_errors: tuple[type[Exception], ...] = (*_prefect.api_errors(), httpx.HTTPError)
    try:
        return call()
    except RuntimeError as exc:
        if str(exc).startswith(_prefect.EPHEMERAL_TIMEOUT):
            limit = get_settings().prefect_server_start_timeout
            raise OrchestrationError(
                f"Prefect's temporary server did not come up within {limit:g} s (a busy "
                "machine?); raise CONDUCTOR_PREFECT_SERVER_START_TIMEOUT, or run with a server "
                "that outlives the process: the CLI's shared one (CONDUCTOR_PREFECT_SERVER="
                "shared, `conductor server start`) or your own (PREFECT_API_URL)"
            ) from None
        if not str(exc).startswith("Failed to reach API"):
            raise  # Prefect's client raises this RuntimeError for an unreachable API
        return _api_failed(exc)
    except api_errors as exc:
        return _api_failed(exc)


def _api_failed(exc: Exception) -> NoReturn:
    import httpx

    api = _prefect.api_url() or "Prefect's temporary server"
    answer = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else None
    raise OrchestrationError(
        f"the Prefect API ({api}) failed while starting or tracking the run "
        f"({f'HTTP {answer}' if answer else exc}); check that it is up and "
        "PREFECT_API_URL; `conductor logs` shows what ran. A busy Prefect server on SQLite "
        "answers 503 to many runs at once: give it a PostgreSQL database "
        "(PREFECT_API_DATABASE_CONNECTION_URL), start fewer runs at once, or run again"
    ) from None
