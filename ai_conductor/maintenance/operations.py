"""The four maintenance operations as plain calls returning JSON-able dicts (no Prefect here).

The context and store functions are imported inside each call: importing this module stays
cheap, and a missing optional backend only fails the operation that needs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from ai_conductor.maintenance.outcome import as_dict, record_outcome
from ai_conductor.settings import Settings
from ai_conductor.store import events as ev

Operation = Callable[..., dict[str, Any]]

TITLES: Final = {
    "weaviate-init": "Weaviate initialization",
    "airbyte-sync": "Airbyte sync",
    "context-sync": "Context sync",
    "prune": "Prune history",
}


def _recorded(settings: Settings, action: str, call: Callable[[], object]) -> dict[str, Any]:
    try:
        data = as_dict(call())
    except Exception as exc:
        record_outcome(settings, action, {}, error=exc)
        raise
    record_outcome(settings, action, data)
    return data


def weaviate_init(settings: Settings) -> dict[str, Any]:
    """Create or migrate the Weaviate context collection; idempotent.

    With the embedded store and neither WEAVIATE_URL nor CONDUCTOR_WEAVIATE_BLOCK there is no
    collection to create: the result says so (``action: not-applicable``) instead of failing.
    """
    weaviate_named = settings.weaviate_url or settings.weaviate_block
    if settings.context_store != "weaviate" and not weaviate_named:
        data = {
            "store": settings.context_store, "collection": None, "action": "not-applicable",
            "message": f"the context store is {settings.context_store!r}: there is no Weaviate "
            "collection to initialize (set CONDUCTOR_CONTEXT_STORE=weaviate and WEAVIATE_URL "
            "or CONDUCTOR_WEAVIATE_BLOCK)",
        }  # fmt: skip
        record_outcome(settings, "weaviate-init", data, status=ev.SKIPPED_STATUS)
        return data

    def init() -> dict[str, Any]:
        from ai_conductor.context import init_collection

        result = init_collection(settings)
        return {"store": "weaviate", **as_dict(result), "message": result.message}

    return _recorded(settings, "weaviate-init", init)


def context_sync(settings: Settings) -> dict[str, Any]:
    """Copy findings and fixes from the audit database into the context store."""
    from ai_conductor.context import sync_context

    return _recorded(settings, "context-sync", lambda: sync_context(settings))


def prune(settings: Settings, *, older_than_days: int, dry_run: bool = False) -> dict[str, Any]:
    """Delete audit history older than ``older_than_days`` (``dry_run``: only count it), and
    remove the worktrees killed runs left (``worktrees_reclaimed``; not on a dry run)."""
    from ai_conductor.implement.reclaim import reclaim_stale
    from ai_conductor.store import prune as prune_store

    def run() -> dict[str, Any]:
        data = as_dict(prune_store(settings, older_than_days, dry_run=dry_run))
        worktrees = settings.home_dir / "worktrees"
        data["worktrees_reclaimed"] = [] if dry_run else reclaim_stale(worktrees)
        return data

    return _recorded(settings, "prune", run)


def airbyte_sync(
    settings: Settings,
    *,
    connection_id: str | None = None,
    timeout: float = 3600.0,
    poll_interval: float = 10.0,
) -> dict[str, Any]:
    """Trigger the Airbyte connection's sync and wait for it (it writes its own audit row)."""
    from ai_conductor.maintenance.airbyte import airbyte_sync as sync

    result = sync(settings, connection_id=connection_id, timeout=timeout,
                  poll_interval=poll_interval)  # fmt: skip
    return as_dict(result)


OPERATIONS: Final[dict[str, Operation]] = {
    "weaviate-init": weaviate_init,
    "airbyte-sync": airbyte_sync,
    "context-sync": context_sync,
    "prune": prune,
}
