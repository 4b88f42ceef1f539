"""``conductor metrics serve``: a standalone Prometheus exporter of the audit-log families.

It serves the families of ``conductor serve --http``'s ``/metrics`` that come from the audit
log and the findings memory (``conductor_workflows``, ``conductor_findings``) through the same
:class:`~ai_conductor.monitoring.metrics.ConductorMetrics` (without a run manager: no active runs or
LLM totals), and ``conductor_task_duration_seconds`` for tasks other processes (workers) finish:
each scrape reads the finished-task rows written since the previous one (by id, bounded), so
the histogram counts tasks finished since the exporter started. Run one exporter per audit
database: beside each worker with the SQLite default, once for a shared PostgreSQL log.
"""

from __future__ import annotations

import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any, Final
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from sqlalchemy import func, select

from ai_conductor.settings import Settings
from ai_conductor.store.events import AuditEvent

if TYPE_CHECKING:
    from ai_conductor.monitoring.metrics import ConductorMetrics

__all__ = ["AuditTail", "create_wsgi_app", "serve"]
log = logging.getLogger(__name__)
BATCH: Final = 10_000
_TASK_DONE: Final = ("succeeded", "failed", "reused")
StartResponse = Callable[[str, list[tuple[str, str]]], Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class AuditTail:
    """Hands each finished-task row written after the start to ``observe``, once."""

    def __init__(self, settings: Settings, observe: Callable[[AuditEvent], None]) -> None:
        self.settings, self.observe = settings, observe
        self._last: int | None = None
        self._lock = threading.Lock()
        self.poll()  # the start: tasks already in the log are not counted

    def poll(self) -> int:
        """Observe the rows written since the last poll (at most ``BATCH``); return how many."""
        from ai_conductor.store import coordination_logs, open_audit_log

        t = coordination_logs.c
        with self._lock:
            try:
                with open_audit_log(self.settings).engine().connect() as conn:
                    top = conn.execute(select(func.max(t.id))).scalar() or 0
                    if self._last is None:
                        self._last = int(top)
                        return 0
                    stmt = (
                        select(t.id, t.task_id, t.agent_role, t.action, t.status, t.metadata)
                        .where(t.id > self._last, t.id <= top, t.task_id.is_not(None))
                        .where(t.action.in_(_TASK_DONE))
                        .order_by(t.id)
                        .limit(BATCH)
                    )
                    rows = conn.execute(stmt).all()
            except Exception as exc:  # the database is down: try again on the next scrape
                log.warning("metrics: cannot read the audit log: %s", type(exc).__name__)
                return 0
            self._last = int(rows[-1].id) if len(rows) == BATCH else int(top)
        for row in rows:
            meta = row.metadata if isinstance(row.metadata, dict) else {}
            self.observe(
                AuditEvent(
                    "",
                    row.action,
                    row.status,
                    task_id=row.task_id,
                    agent_role=row.agent_role,
                    metadata=meta,
                )
            )
        return len(rows)


def create_wsgi_app(settings: Settings) -> tuple[WSGIApp, ConductorMetrics]:
    """The exporter's WSGI app (``/metrics``, ``/healthz``) and its metrics."""
    from prometheus_client import make_wsgi_app

    from ai_conductor.monitoring.metrics import ConductorMetrics

    metrics = ConductorMetrics(settings, None)
    tail = AuditTail(settings, metrics.observe)
    exposition = make_wsgi_app(metrics.registry)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            tail.poll()
            return exposition(environ, start_response)  # type: ignore[no-any-return]
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok\n"]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found: the metrics are at /metrics\n"]

    return app, metrics


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """No access log."""


def serve(settings: Settings, host: str, port: int) -> int:
    """Serve until SIGTERM or Ctrl-C; 3 when the address cannot be bound."""
    app, _ = create_wsgi_app(settings)
    server_class: type[_Server] = _Server6 if ":" in host else _Server
    try:
        httpd = make_server(host, port, app, server_class, handler_class=_Quiet)
    except OSError as exc:
        print(f"error: cannot serve on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 3
    shown = f"[{host}]" if ":" in host else host
    print(f"conductor: metrics at http://{shown}:{httpd.server_port}/metrics", file=sys.stderr)

    def stop(signum: int, frame: object) -> None:
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    try:
        httpd.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        httpd.server_close()
    return 0
