"""Maintenance flows: ``weaviate-init``, ``airbyte-sync``, ``context-sync`` and ``prune``.

Each flow is one library call from :mod:`ai_conductor.maintenance.operations` plus a Markdown
artifact (key ``conductor-maintenance-<flow>``) on success and on failure. They are the units
deployments schedule; ``conductor maintenance`` runs the same flows from the command line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Final

from prefect import Flow
from pydantic import Field

from ai_conductor._prefect import conductor_flow
from ai_conductor.maintenance import operations as ops
from ai_conductor.maintenance.outcome import to_markdown
from ai_conductor.settings import get_settings

ARTIFACT_PREFIX: Final = "conductor-maintenance-"


def publish(name: str, data: dict[str, Any], *, error: BaseException | None = None) -> str:
    """Attach the Markdown report of a maintenance run to the current flow run; return its key."""
    from ai_conductor._prefect import markdown_artifact

    title = ops.TITLES[name]
    key = ARTIFACT_PREFIX + name
    text = to_markdown(title, data, error=str(error) if error is not None else None)
    markdown_artifact(text, key=key, description=f"ai-conductor maintenance: {title}")
    return key


def _reported(name: str, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        data = call()
    except Exception as exc:
        partial = getattr(exc, "result", None)
        publish(name, partial.model_dump(mode="json") if partial is not None else {}, error=exc)
        raise
    publish(name, data)
    return data


@conductor_flow(name="weaviate-init")
def weaviate_init_flow() -> dict[str, Any]:
    """Create the Weaviate context collection if missing (the embedded store needs nothing)."""
    return _reported("weaviate-init", lambda: ops.weaviate_init(get_settings()))


@conductor_flow(name="airbyte-sync")
def airbyte_sync_flow(
    connection_id: str | None = None,
    timeout: Annotated[float, Field(gt=0)] = 3600.0,
    poll_interval: Annotated[float, Field(gt=0)] = 10.0,
) -> dict[str, Any]:
    """Trigger the Airbyte connection's sync and wait for its job; fail unless it succeeded.

    ``connection_id`` defaults to AIRBYTE_CONNECTION_ID (or the AirbyteCredentials block's);
    past ``timeout`` seconds the job is cancelled and the run fails.
    """
    return _reported(
        "airbyte-sync",
        lambda: ops.airbyte_sync(
            get_settings(), connection_id=connection_id, timeout=timeout,
            poll_interval=poll_interval,
        ),
    )  # fmt: skip


@conductor_flow(name="context-sync")
def context_sync_flow() -> dict[str, Any]:
    """Copy findings and fixes from the audit database into the context store."""
    return _reported("context-sync", lambda: ops.context_sync(get_settings()))


@conductor_flow(name="prune")
def prune_flow(
    older_than_days: Annotated[int, Field(ge=0)] = 90, dry_run: bool = False
) -> dict[str, Any]:
    """Delete audit history older than ``older_than_days`` days (``dry_run``: only count it)."""
    return _reported(
        "prune",
        lambda: ops.prune(get_settings(), older_than_days=older_than_days, dry_run=dry_run),
    )


FLOWS: Final[dict[str, Flow[..., dict[str, Any]]]] = {
    "weaviate-init": weaviate_init_flow,
    "airbyte-sync": airbyte_sync_flow,
    "context-sync": context_sync_flow,
    "prune": prune_flow,
}
