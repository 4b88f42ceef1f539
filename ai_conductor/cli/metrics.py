"""``conductor metrics``: Prometheus metrics for flows run outside the HTTP server.

Help text here is the user documentation.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from ai_conductor.cli._errors import group

metrics_app = group(
    "Prometheus metrics for flows run by workers, deployments and the CLI.\n\n"
    "Two ways, usable together: `conductor metrics serve` exposes the audit log's families "
    "for Prometheus to scrape; CONDUCTOR_METRICS_PUSHGATEWAY=http://HOST:9091 makes every "
    "conductor flow run push its own metrics (duration, final state, task durations, findings, "
    "LLM usage) to a Pushgateway as it ends (job ai_conductor, grouped by flow and "
    "deployment; scrape the Pushgateway with honor_labels: true). "
    "Needs pip install 'ai-conductor\\[server]'."
)
err = Console(stderr=True)


@metrics_app.command("serve")
def serve(
    host: Annotated[str, typer.Option(help="Address to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(min=0, max=65535, help="Port (9464; 0 picks a free one).")
    ] = 9464,
) -> None:
    """Serve the audit log's metrics at http://HOST:PORT/metrics (a standalone exporter).

    Families: conductor_workflows_total{status} (finished workflow runs in the audit log),
    conductor_findings{severity} (latest analysis of each codebase), and
    conductor_task_duration_seconds{agent_role,status} (tasks finished since the exporter
    started, by any process writing to the audit log). /healthz answers ok. Run one per audit
    database: beside each worker with the SQLite default, once for a shared PostgreSQL log.
    The metrics carry no secrets; bind a public address only behind your firewall.
    """
    from ai_conductor.monitoring import require_prometheus_client
    from ai_conductor.settings import get_settings

    require_prometheus_client()
    from ai_conductor.monitoring.exporter import serve as run_exporter

    raise typer.Exit(run_exporter(get_settings(), host, port))
