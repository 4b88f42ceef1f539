"""The HTTP API (FastAPI): the seed's ``/tasks``, workflow and run endpoints, ``/healthz``,
Prometheus ``/metrics``, ``/docs`` + ``/openapi.json``, and the MCP server at ``/mcp``.

Security (see :mod:`ai_conductor.server.http_guard`): a bearer token on everything but
``/healthz`` when ``CONDUCTOR_API_TOKEN`` is set, a ``Host``/``Origin`` check against DNS
rebinding (421/403), a request-size limit, codebase paths confined to
``CONDUCTOR_ALLOWED_ROOTS`` (403), errors as ``{error, detail}`` with secrets redacted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack, asynccontextmanager
from functools import partial
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, FastAPI, HTTPException, Query, Request
from fastapi import Path as FastPath
from fastapi.responses import Response

from ai_conductor.monitoring.metrics import CONTENT_TYPE, ConductorMetrics
from ai_conductor.server.http_errors import install_error_handlers
from ai_conductor.server.http_guard import DEFAULT_MAX_BODY, GuardMiddleware, allowed_host_names
from ai_conductor.server.http_models import (
    ErrorBody,
    Health,
    RunRequest,
    RunStatusView,
    SecureTaskRequest,
    TaskList,
    ValidateRequest,
    ValidateResult,
)
from ai_conductor.server.http_tasks import recent_tasks, task_workflow_params
from ai_conductor.server.params import ServerRunStatus
from ai_conductor.server.runs import RunInfo, RunManager
from ai_conductor.server.security import require_token
from ai_conductor.settings import Settings, get_settings

__all__ = ["create_app"]
RunId = Annotated[str, FastPath(pattern=r"^[A-Za-z0-9_-]{1,64}$", description="A run id.")]
Limit = Annotated[int, Query(ge=1, le=500, description="Most entries to return.")]
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (400, 401, 403, 404, 413, 421, 422, 500)
}
SHUTDOWN_GRACE = 20.0
"""Seconds a stopping server waits for its running runs (workflows are cancelled first)."""


def _state(request: Request) -> tuple[Settings, RunManager]:
    return request.app.state.settings, request.app.state.manager


def _routes() -> APIRouter:
    router = APIRouter(responses=_ERRORS)

    @router.get("/healthz", response_model=Health, tags=["server"])
    async def healthz() -> Health:
        """Liveness: 200 while the process serves requests (no token needed)."""
        from ai_conductor._version import package_version

        return Health(version=package_version())

    @router.get("/metrics", tags=["server"], response_class=Response)
    def metrics(request: Request) -> Response:
        """Prometheus text exposition (workflows, task durations, findings, LLM usage)."""
        body = request.app.state.metrics.render()
        return Response(content=body, media_type=CONTENT_TYPE)

    @router.get("/tasks", response_model=TaskList, tags=["tasks"])
    def list_tasks(request: Request, limit: Limit = 100, status: str | None = None) -> TaskList:
        """Recent tasks of any run, in their latest recorded state, newest first."""
        settings, _ = _state(request)
        return recent_tasks(settings, limit=limit, status=status)

    @router.post("/tasks", response_model=RunInfo, status_code=202, tags=["tasks"])
    def create_task(request: Request, body: SecureTaskRequest) -> RunInfo:
        """Run one task (the seed's request) as a one-task workflow; returns the run."""
        settings, manager = _state(request)
        return manager.submit("workflow", task_workflow_params(body, settings))

    @router.post("/workflows/validate", response_model=ValidateResult, tags=["workflows"])
    def validate_workflow(request: Request, body: ValidateRequest) -> ValidateResult:
        """Check an inline spec (a JSON object, or YAML/JSON text); nothing runs. The same
        check as the MCP tool ``validate_spec``; ``warnings`` name what is probably not meant."""
        from ai_conductor.server.validation import validate

        return validate(_state(request)[0], body.spec)

    @router.post("/runs", response_model=RunInfo, status_code=202, tags=["runs"])
    def submit_run(request: Request, body: RunRequest) -> RunInfo:
        """Start an analyze, workflow or implement run; poll ``GET /runs/{run_id}``."""
        return _state(request)[1].submit(body.kind, body.params)

    @router.get("/runs", response_model=list[RunInfo], tags=["runs"])
    def list_runs(
        request: Request, limit: Limit = 50, status: ServerRunStatus | None = None
    ) -> Any:
        """Runs this server knows, newest first."""
        return _state(request)[1].list(limit=limit, status=status)

    @router.get("/runs/{run_id}", response_model=RunInfo, tags=["runs"])
    def get_run(request: Request, run_id: RunId) -> RunInfo:
        """One run with its progress and, once finished, its result."""
        return _found(_state(request)[1].get(run_id), run_id)

    @router.get("/runs/{run_id}/status", response_model=RunStatusView, tags=["runs"])
    def run_status(request: Request, run_id: RunId) -> RunStatusView:
        """Just the status and progress of a run (cheap to poll)."""
        info = _found(_state(request)[1].get(run_id), run_id)
        return RunStatusView(run_id=info.run_id, status=info.status, progress=info.progress)

    @router.post("/runs/{run_id}/cancel", response_model=RunInfo, tags=["runs"])
    def cancel_run(request: Request, run_id: RunId) -> RunInfo:
        """Stop a pending or running run; a finished run is returned unchanged."""
        manager = _state(request)[1]
        _found(manager.get(run_id), run_id)
        return manager.cancel(run_id)

    return router


def _found(info: RunInfo | None, run_id: str) -> RunInfo:
    if info is None:
        raise HTTPException(404, f"no run with id {run_id[:80]!r}")
    return info


def create_app(
    settings: Settings | None = None,
    *,
    manager: RunManager | None = None,
    host: str = "127.0.0.1",
    max_body: int = DEFAULT_MAX_BODY,
    allowed_hosts: Iterable[str] = (),
) -> FastAPI:
    """The whole HTTP server as one ASGI app; nothing starts until its lifespan runs.

    ``manager``: runs are submitted to it (default: a new :class:`RunManager`, shut down with
    the app: running workflows are cancelled, running runs get :data:`SHUTDOWN_GRACE`
    seconds). ``host``: the address served; without a token or on loopback, requests must
    name it, a loopback name, or one of ``allowed_hosts`` in their ``Host`` header (and come
    from no other site), for the API and the MCP transport alike (DNS-rebinding protection).
    """
    settings = settings or get_settings()
    own_manager = manager is None
    runs = manager if manager is not None else RunManager(settings, daemon_threads=True)
    from ai_conductor.server.mcp_server import build_mcp_server

    token = require_token(settings)
    names = allowed_host_names(host, token, allowed_hosts)
    mcp = build_mcp_server(runs, settings)
    mcp_app = mcp.streamable_http_app(host=host, transport_security=_mcp_security(names))
    metrics = ConductorMetrics(settings, runs)

    async def stop_runs() -> None:  # off the event loop: it waits for running runs
        stop = partial(runs.shutdown, timeout=SHUTDOWN_GRACE, cancel_running=True)
        await anyio.to_thread.run_sync(stop)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            metrics.attach()
            stack.callback(metrics.close)
            if own_manager:
                stack.push_async_callback(stop_runs)
            await stack.enter_async_context(mcp.session_manager.run())
            yield

    app = FastAPI(
        title="ai-conductor",
        summary="Audit codebases and improve them with AI agents: runs, tasks, metrics, MCP.",
        lifespan=lifespan,
    )
    app.state.settings, app.state.manager, app.state.metrics = settings, runs, metrics
    install_error_handlers(app, settings)
    app.include_router(_routes())
    app.router.routes.extend(mcp_app.routes)  # POST/GET/DELETE /mcp, same guard
    app.add_middleware(GuardMiddleware, token=token, max_body=max_body, allowed_hosts=names)
    return app


def _mcp_security(names: frozenset[str] | None) -> Any:
    """The MCP SDK's own Host/Origin check, with the same names as :class:`GuardMiddleware`
    (the SDK's default knows only 127.0.0.1, localhost and ::1, whatever the bound address)."""
    from mcp.server.transport_security import TransportSecuritySettings

    if names is None:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    hosts = sorted(f"[{n}]" if ":" in n else n for n in names)
    origins = [f"{scheme}://{h}" for h in hosts for scheme in ("http", "https")]
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts + [f"{h}:*" for h in hosts],
        allowed_origins=origins + [f"{o}:*" for o in origins],
    )
