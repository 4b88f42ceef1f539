"""The findings memory's tables (``analysis_runs``, ``findings``, ``dismissals``) and models.

Migration ``0003_findings`` owns the DDL; these Core tables mirror it on the audit log's
``MetaData``, so queries and inserts are typed. Timestamps are stored as UTC, read back aware.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import (
    JSON,
    Column,
    Connection,
    Engine,
    ForeignKey,
    Index,
    Integer,
    RowMapping,
    String,
    Table,
    Text,
    column,
    insert,
    select,
    table,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import SQLAlchemyError

from ai_conductor.analysis.models import Finding, FindingStatus, Summary, ToolRun
from ai_conductor.errors import StoreError, UsageError
from ai_conductor.store.schema import UTCDateTime, metadata_obj

FINGERPRINT_MAX: Final = 64
_JSON: Final = JSON().with_variant(JSONB(), "postgresql")

analysis_runs = Table(
    "analysis_runs",
    metadata_obj,
    Column("id", String(64), primary_key=True),
    Column("codebase_id", String(1024), nullable=False),
    Column("codebase", Text, nullable=True),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("focus", _JSON, nullable=True),
    Column("summary", _JSON, nullable=True),
    Column("tools", _JSON, nullable=True),
    Index("idx_runs_codebase_finished", "codebase_id", "finished_at"),
)
"""One row per recorded analysis run; ``id`` is the report's ``run_id``."""

findings = Table(
    "findings",
    metadata_obj,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "run_id",
        String(64),
        ForeignKey("analysis_runs.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("fingerprint", String(FINGERPRINT_MAX), nullable=False),
    Column("tool", String(64), nullable=True),
    Column("rule_id", String(255), nullable=True),
    Column("severity", String(16), nullable=True),
    Column("category", String(32), nullable=True),
    Column("path", Text, nullable=True),
    Column("line", Integer, nullable=True),
    Column("status", String(16), nullable=True),
    Column("data", _JSON, nullable=True),
    Index("idx_findings_run_id", "run_id"),
    Index("idx_findings_fingerprint", "fingerprint"),
)
"""The findings of each run (``data`` is the whole :class:`Finding`), fixed ones included."""

dismissals = Table(
    "dismissals",
    metadata_obj,
    Column("fingerprint", String(FINGERPRINT_MAX), primary_key=True),
    Column("reason", Text, nullable=False),
    Column("dismissed_by", String(255), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("snapshot", _JSON, nullable=True),
)
"""Fingerprints kept out of every later report, with why and by whom."""


class Dismissal(BaseModel):
    """A dismissed fingerprint: the finding stays out of later reports until undismissed."""

    model_config = ConfigDict(frozen=True)

    fingerprint: str
    reason: str
    dismissed_by: str | None = None
    created_at: datetime
    finding: Finding | None = None
    """The finding as it was when dismissed, when known."""


class RunSummary(BaseModel):
    """One stored analysis run, without its findings."""

    model_config = ConfigDict(frozen=True)

    run_id: str
    codebase_id: str
    codebase: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    focus: list[str] = Field(default_factory=list)
    summary: Summary = Field(default_factory=Summary)
    tools: list[ToolRun] = Field(default_factory=list)


def scrub(value: Any) -> Any:
    """Drop NUL characters (PostgreSQL rejects them in text and JSONB) from a JSON value."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


def clip(value: str, size: int) -> str:
    """``value`` without NULs, cut to a column's size (the full value stays in ``data``)."""
    return value.replace("\x00", "")[:size]


findings_raw = table("findings", *(column(c.name) for c in findings.c if c.name != "id"))
"""``findings`` without column types: inserts take ``data`` as JSON text, serialised once by
pydantic (a JSON column would serialise every row again in Python); SQLite stores that text as
is and PostgreSQL casts it to JSONB."""


def finding_row(
    run_id: str, finding: Finding, status: FindingStatus | None = None
) -> dict[str, Any]:
    """The ``findings_raw`` row of one finding of run ``run_id`` (``status`` overrides its own)."""
    if status is not None and finding.status is not status:
        finding = finding.model_copy(update={"status": status})
    data: str = finding.model_dump_json()
    if "\\u0000" in data:  # rare: PostgreSQL refuses NUL, in text and in JSONB
        data = json.dumps(scrub(finding.model_dump(mode="json")))
    return {
        "run_id": run_id,
        "fingerprint": clip(finding.fingerprint, FINGERPRINT_MAX),
        "tool": clip(finding.tool, 64),
        "rule_id": clip(finding.rule_id, 255),
        "severity": finding.severity.value,
        "category": finding.category.value,
        "path": clip(finding.path, 1 << 20),
        "line": finding.line,
        "status": finding.status.value,
        "data": data,
    }


def run_summary(row: RowMapping) -> RunSummary:
    """A :class:`RunSummary` from an ``analysis_runs`` row mapping."""
    return RunSummary(
        run_id=row["id"],
        codebase_id=row["codebase_id"],
        codebase=row["codebase"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        focus=row["focus"] or [],
        summary=Summary.model_validate(row["summary"] or {}),
        tools=[ToolRun.model_validate(t) for t in row["tools"] or []],
    )


# -- helpers of FindingsMemory -------------------------------------------------------------------

_R, _D = analysis_runs.c, dismissals.c


@contextmanager
def guard(engine: Engine) -> Iterator[None]:
    """Turn database errors into :class:`StoreError` naming the database (never its password)."""
    try:
        yield
    except SQLAlchemyError as exc:
        url, orig = engine.url, getattr(exc, "orig", None) or exc
        reason = " ".join(str(orig).split())[:300]
        if isinstance(url.password, str) and url.password:
            reason = reason.replace(url.password, "***")
        shown = url.render_as_string(hide_password=True)
        raise StoreError(f"findings memory at {shown}: {reason}") from None


def latest_run(conn: Connection, codebase_id: str | None, before_run: str | None) -> str | None:
    """The id of the newest run (of ``codebase_id``; finished no later than ``before_run``)."""
    stmt = select(_R.id).order_by(_R.finished_at.desc(), _R.started_at.desc()).limit(1)
    if codebase_id is not None:
        stmt = stmt.where(_R.codebase_id == clip(codebase_id, 1024))
    if before_run is not None:
        cutoff = analysis_runs.alias("cutoff")
        until = select(cutoff.c.finished_at).where(cutoff.c.id == before_run).scalar_subquery()
        stmt = stmt.where(_R.id != before_run, until.is_(None) | (_R.finished_at <= until))
    return conn.scalars(stmt).first()


def upsert_dismissal(conn: Connection, fingerprint: str, values: dict[str, Any]) -> Dismissal:
    """Update the dismissal of ``fingerprint`` with ``values``, or insert it (created now)."""
    where = _D.fingerprint == fingerprint
    if not conn.execute(update(dismissals).where(where).values(values)).rowcount:
        row = {"fingerprint": fingerprint, "created_at": datetime.now(UTC), **values}
        conn.execute(insert(dismissals), row)
    return dismissal(conn.execute(select(dismissals).where(where)).mappings().one())


def dismissal(row: RowMapping) -> Dismissal:
    """A :class:`Dismissal` from a ``dismissals`` row mapping."""
    snapshot = row["snapshot"]
    return Dismissal(
        fingerprint=row["fingerprint"],
        reason=row["reason"],
        dismissed_by=row["dismissed_by"],
        created_at=row["created_at"],
        finding=Finding.model_validate(snapshot) if snapshot else None,
    )


def checked_fingerprint(fingerprint: str) -> str:
    """``fingerprint`` stripped; :class:`UsageError` if empty or longer than the column."""
    fingerprint = fingerprint.strip()
    if not fingerprint or len(fingerprint) > FINGERPRINT_MAX:
        raise UsageError(f"a fingerprint has 1 to {FINGERPRINT_MAX} characters: {fingerprint!r}")
    return fingerprint


def checked_limit(limit: int) -> int:
    """``limit``; :class:`UsageError` below 1."""
    if limit < 1:
        raise UsageError(f"limit must be at least 1, got {limit}")
    return limit


def choice(name: str, value: str, kind: type[StrEnum]) -> str:
    """``value`` lower-cased if it is one of ``kind``'s values, else :class:`UsageError`."""
    allowed = [v.value for v in kind]
    if value.lower() not in allowed:
        raise UsageError(f"unknown {name} {value!r}: use one of {', '.join(allowed)}")
    return value.lower()
