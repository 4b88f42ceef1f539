"""Prometheus metrics for flows run outside the HTTP server.

Two ways, both reading what the audit log and the flow run already know:

- pushed: with ``CONDUCTOR_METRICS_PUSHGATEWAY`` set, every conductor flow run pushes its
  metrics to a Pushgateway as it ends (:mod:`ai_conductor.monitoring.push`, hooked into every
  flow: the flows package registers its hooks with ``ai_conductor._prefect``);
- exposed: ``conductor metrics serve`` runs a standalone exporter of the audit-log families
  (:mod:`ai_conductor.monitoring.exporter`).

Both need ``prometheus_client`` (``pip install 'ai-conductor[server]'``), imported only when used.
"""

from __future__ import annotations

__all__ = ["require_prometheus_client"]


def require_prometheus_client() -> None:
    """Raise :class:`~ai_conductor.errors.UsageError` unless prometheus_client is importable."""
    import importlib.util

    from ai_conductor.errors import UsageError

    try:
        found = importlib.util.find_spec("prometheus_client") is not None
    except ValueError:  # sys.modules["prometheus_client"] is None: blocked
        found = False
    if not found:
        raise UsageError(
            "Prometheus metrics need prometheus_client: pip install 'ai-conductor[server]'"
        )
