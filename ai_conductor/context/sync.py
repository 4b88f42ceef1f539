"""The ``context-sync`` job: copy what is new in the audit database into the context store.

Sources: audit-log events of the implementer and refiner (change kept / rejected, with the
reason), failed analyzer runs, analysis run summaries, findings and dismissals. How far each
source has been copied is kept in ``$CONDUCTOR_HOME/context-sync.db``, per store and database,
so a second run copies nothing new; record ids are deterministic, so a repeat is harmless anyway.
A batch the store partly refuses stops the watermark before the first refused record.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, computed_field
from sqlalchemy import Connection

from ai_conductor.analysis.memory_schema import guard
from ai_conductor.context import _sources as src
from ai_conductor.context.models import ContextRecord, FailedRecord
from ai_conductor.context.registry import open_context_store
from ai_conductor.errors import StoreError, UsageError
from ai_conductor.protocols import ContextStore
from ai_conductor.settings import Settings, get_settings

READERS: dict[str, Callable[[Connection, Any, int | None], src.Batch]] = {
    "audit": lambda conn, after, limit: src.audit_records(conn, after or 0, limit),
    "findings": lambda conn, after, limit: src.finding_records(conn, after or 0, limit),
    "runs": src.run_records,
}
"""The incremental sources, in copy order (dismissals are compared whole)."""


class SyncResult(BaseModel):
    """What one ``sync_context`` run copied."""

    store: str
    """The context store's location."""
    database: str
    """The audit database (password hidden)."""
    copied: dict[str, int] = Field(default_factory=dict)
    """Records stored, by source (audit, findings, runs, dismissals)."""
    failed: list[FailedRecord] = Field(default_factory=list)
    """Records the store refused; they are retried on the next run."""
    watermarks: dict[str, Any] = Field(default_factory=dict)
    """Where each source stands after this run."""

    @computed_field  # type: ignore[prop-decorator]
    @property
    def total(self) -> int:
        """All records stored by this run."""
        return sum(self.copied.values())


class Watermarks:
    """Small persistent key/value table (JSON values) under ``$CONDUCTOR_HOME``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with closing(sqlite3.connect(path)) as conn, conn:
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS watermarks "
                    "(key TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL)"
                )
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(f"cannot open the context-sync watermarks {path}: {exc}") from None

    def get(self, key: str) -> Any:
        with closing(sqlite3.connect(self.path)) as conn:
            row = conn.execute("SELECT value FROM watermarks WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set(self, key: str, value: Any) -> None:
        now = datetime.now(UTC).isoformat()
        with closing(sqlite3.connect(self.path, timeout=30)) as conn, conn:
            conn.execute(
                "INSERT INTO watermarks (key, value, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value, "
                "updated_at = excluded.updated_at",
                (key, json.dumps(value), now),
            )


def sync_context(
    settings: Settings | None = None,
    *,
    limit: int | None = None,
    store: ContextStore | None = None,
) -> SyncResult:
    """Copy new audit events, runs, findings and dismissals into the context store.

    ``limit`` caps the source rows read per source in this run (the rest come next time).
    ``store`` defaults to :func:`open_context_store` (opened and closed here).
    """
    from ai_conductor.store import open_audit_log

    if limit is not None and limit < 1:
        raise UsageError(f"limit must be at least 1, got {limit}")
    settings = settings or get_settings()
    engine = open_audit_log(settings).engine()
    database = engine.url.render_as_string(hide_password=True)
    target = store or open_context_store(settings)
    try:
        marks = Watermarks(settings.home_dir / "context-sync.db")
        result = SyncResult(store=target.location, database=database)
        prefix = f"{target.location}|{database}|"
        with guard(engine), engine.connect() as conn:
            for name, read in READERS.items():
                before = marks.get(prefix + name)
                pairs, end = read(conn, before, limit)
                result.watermarks[name] = _copy(target, name, pairs, end, before, result)
                marks.set(prefix + name, result.watermarks[name])
            done = marks.get(prefix + "dismissals") or {}
            fresh = [(fp, r) for fp, r in src.dismissal_records(conn) if done.get(fp) != _digest(r)]
        stored = _store(target, "dismissals", [r for _, r in fresh], result)
        done.update({fp: _digest(r) for fp, r in fresh if r.id in stored})
        marks.set(prefix + "dismissals", done)
        result.watermarks["dismissals"] = len(done)
    finally:
        if store is None:
            target.close()
    return result


def _copy(
    store: ContextStore,
    name: str,
    pairs: list[tuple[Any, ContextRecord]],
    end: Any,
    before: Any,
    result: SyncResult,
) -> Any:
    """Store one source's records; the watermark to keep (before the first refused one)."""
    stored = _store(store, name, [r for _, r in pairs], result)
    for index, (_, record) in enumerate(pairs):
        if record.id not in stored:
            return pairs[index - 1][0] if index else before
    return end


def _store(
    store: ContextStore, name: str, records: list[ContextRecord], result: SyncResult
) -> set[str]:
    unique = list({r.id: r for r in records}.values())  # the latest state of a key wins
    ok: set[str] = set()
    for start in range(0, len(unique), 500):
        batch = store.batch_store(unique[start : start + 500])
        ok.update(batch.stored)
        result.failed.extend(batch.failed)
    result.copied[name] = result.copied.get(name, 0) + len({r.id for r in records} & ok)
    return ok


def _digest(record: ContextRecord) -> str:
    return hashlib.sha256(record.content.encode("utf-8")).hexdigest()[:16]
