"""Which Prefect API this process talks to, and the client for it.

"Is a Prefect API configured?" has one answer here: ``PREFECT_API_URL`` as Prefect resolves it
(environment, then the active profile). Without it, Prefect starts a temporary server per
process; the CLI may point the process at the shared local one instead (:func:`use_shared_server`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ai_conductor import _local_server
from ai_conductor.settings import Settings

if TYPE_CHECKING:
    from prefect.client.orchestration import PrefectClient, SyncPrefectClient

EPHEMERAL_TIMEOUT = "Timed out while attempting to connect to ephemeral Prefect API server"
"""How Prefect 3.8's temporary server says it did not start in time (a RuntimeError)."""


def api_url() -> str | None:
    """PREFECT_API_URL as Prefect resolves it (environment, then the active profile)."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def api_configured() -> bool:
    """True when Prefect is pointed at a server (``PREFECT_API_URL``)."""
    return api_url() is not None


def sync_client(**httpx_settings: Any) -> SyncPrefectClient:
    """A synchronous client of the configured API (use it as a context manager)."""
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True, httpx_settings=httpx_settings or None)


def async_client() -> PrefectClient:
    """An asynchronous client of the configured API (``async with``)."""
    from prefect.client.orchestration import get_client

    return get_client()


def api_errors() -> tuple[type[Exception], ...]:
    """The exceptions the Prefect client raises for an API that answered with an error."""
    from prefect.exceptions import PrefectHTTPStatusError

    return (PrefectHTTPStatusError,)


def use_shared_server(settings: Settings, on_start: Callable[[str], None]) -> str | None:
    """Point this process at the shared local Prefect server (started when none runs; then
    ``on_start(url)``) when no Prefect API is configured and ``prefect_server`` is ``shared``;
    return its URL, or None when the configured API (or Prefect's temporary server) is used.

    Prefect read its settings when it was imported, so its global settings context is rebuilt
    from the environment, as Prefect does after its plugins set variables."""
    from prefect.context import refresh_global_settings_context

    if api_configured() or settings.prefect_server != "shared":
        return None
    url, started = _local_server.ensure(settings)
    os.environ["PREFECT_API_URL"] = url  # for this process and the processes it starts
    refresh_global_settings_context()
    if started:
        on_start(url)
    return url


@contextmanager
def local_flow_settings() -> Iterator[None]:
    """Settings for a flow run this process starts and waits for (``run_spec``): no flow-run
    heartbeats unless the user configured them (PREFECT_FLOWS_HEARTBEAT_FREQUENCY).

    Prefect's engine joins its heartbeat thread at the end of every flow run, and that thread
    sleeps in one-second steps: 0.8-0.9 s of a 2-task run's 1.2 s here. Heartbeats serve
    automations that spot crashed runs of workers and deployments, which keep Prefect's default;
    a local run's crash is seen by its caller, and its finished tasks are reused on a re-run."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    if "heartbeat_frequency" in get_current_settings().flows.model_fields_set:
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield
