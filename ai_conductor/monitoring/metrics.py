"""Prometheus metrics of the HTTP server (``GET /metrics``), computed where they live.

- ``conductor_workflows_total{status}``: finished workflow runs in the audit log, by final status
  (one ``GROUP BY`` over ``coordination_logs``; survives restarts, like the log).
- ``conductor_task_duration_seconds``: histogram of task durations recorded by this process
  (fed by an audit-log subscription, so it is a proper monotonic histogram).
- ``conductor_active_workflows``: runs the run manager holds as pending or running.
- ``conductor_findings{severity}``: current findings of the latest analysis of each codebase
  (the newest ``FINDINGS_RUNS`` stored runs are considered).
- ``conductor_llm_tokens_total`` / ``conductor_llm_cost_usd_total``: tokens and money reported by
  finished runs the run manager still holds (implement and refine reports).

Every scrape-time query is bounded; a store that cannot be read leaves its families out rather
than failing the scrape.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from ai_conductor.errors import ConductorError
from ai_conductor.monitoring.usage import llm_usage
from ai_conductor.settings import Settings

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from ai_conductor.store.events import AuditEvent

__all__ = ["CONTENT_TYPE", "ConductorMetrics"]
log = logging.getLogger(__name__)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
FINDINGS_RUNS = 200
RUNS_SCANNED = 200
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, float("inf"))
_TASK_DONE = frozenset({"succeeded", "failed", "reused"})


class _Runs(Protocol):
    """The part of the run manager the metrics read."""

    def list(self, limit: int = ..., status: str | None = ...) -> Any: ...


def _tokens_and_cost(result: Any) -> tuple[float, float]:
    """Tokens and cost of a run's result: a report dict, or a workflow's task outputs."""
    return llm_usage(result) or (0.0, 0.0)


class _ScrapeCollector(Collector):
    """Families computed at scrape time from the audit log, findings memory and run manager."""

    def __init__(self, settings: Settings, runs: _Runs | None) -> None:
        self.settings = settings
        self.runs = runs

    def collect(self) -> Iterator[Metric]:
        for part in (self._workflows, self._findings, self._runs):
            try:
                yield from part()
            except (ConductorError, OSError) as exc:
                log.warning("metrics: %s skipped: %s", part.__name__, type(exc).__name__)

    def _workflows(self) -> Iterable[Metric]:
        from ai_conductor.store import coordination_logs, open_audit_log

        audit = open_audit_log(self.settings)
        audit.flush(timeout=2.0)
        t = coordination_logs.c
        stmt = (
            select(t.status, func.count())
            .where(t.action == "finished", t.task_id.is_(None))
            .group_by(t.status)
        )
        try:
            with audit.engine().connect() as conn:
                counts = {str(s): int(n) for s, n in conn.execute(stmt)}
        except Exception as exc:  # a database error must not fail the scrape
            raise ConductorError(type(exc).__name__) from None
        family = CounterMetricFamily(
            "conductor_workflows", "Finished workflow runs in the audit log.", labels=["status"]
        )
        for status in sorted(counts):
            family.add_metric([status], counts[status])
        yield family

    def _findings(self) -> Iterable[Metric]:
        from ai_conductor.analysis.memory import FindingsMemory

        latest: dict[str, dict[str, int]] = {}
        for run in FindingsMemory.open(self.settings).runs(limit=FINDINGS_RUNS):
            latest.setdefault(run.codebase_id, run.summary.by_severity)  # newest first
        totals: dict[str, int] = dict.fromkeys(("critical", "high", "medium", "low", "info"), 0)
        for by_severity in latest.values():
            for severity, n in by_severity.items():
                totals[severity] = totals.get(severity, 0) + n
        family = GaugeMetricFamily(
            "conductor_findings",
            "Current findings of the latest analysis of each codebase, by severity.",
            labels=["severity"],
        )
        for severity, n in totals.items():
            family.add_metric([severity], n)
        yield family

    def _runs(self) -> Iterable[Metric]:
        if self.runs is None:
            return
        infos = list(self.runs.list(limit=RUNS_SCANNED))
        active = sum(1 for r in infos if str(r.status) in ("pending", "running"))
        tokens = cost = 0.0
        for info in infos:
            t, c = _tokens_and_cost(info.result)
            tokens, cost = tokens + t, cost + c
        yield GaugeMetricFamily(
            "conductor_active_workflows", "Runs pending or running in this server.", value=active
        )
        yield CounterMetricFamily(
            "conductor_llm_tokens", "LLM tokens reported by runs held by this server.", tokens
        )
        yield CounterMetricFamily(
            "conductor_llm_cost_usd", "LLM cost (USD) reported by runs held by this server.", cost
        )


class ConductorMetrics:
    """One registry per app; ``attach()`` subscribes to the audit log, ``close()`` stops."""

    def __init__(self, settings: Settings, runs: _Runs | None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.task_duration = Histogram(
            "conductor_task_duration_seconds",
            "Duration of finished workflow tasks run by this process.",
            ["agent_role", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_ScrapeCollector(settings, runs))
        self.settings = settings
        self._unsubscribe: Callable[[], None] | None = None
        self._lock = threading.Lock()

    def attach(self) -> None:
        """Start observing task durations from the audit log (idempotent)."""
        from ai_conductor.store import open_audit_log

        with self._lock:
            if self._unsubscribe is None:
                self._unsubscribe = open_audit_log(self.settings).subscribe(self.observe)

    def observe(self, event: AuditEvent) -> None:
        """Record one audit event's task duration, if it is a finished task."""
        duration = event.metadata.get("duration_s")
        if event.task_id is None or event.action not in _TASK_DONE:
            return
        if isinstance(duration, int | float) and duration >= 0:
            role = event.agent_role or "unknown"
            self.task_duration.labels(role, event.status).observe(float(duration))

    def render(self) -> bytes:
        """The Prometheus text exposition of every family."""
        return generate_latest(self.registry)

    def close(self) -> None:
        with self._lock:
            if self._unsubscribe is not None:
                self._unsubscribe()
                self._unsubscribe = None
