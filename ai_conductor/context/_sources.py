"""What ``context-sync`` reads from the audit database, turned into context records.

Each reader returns ``(position, record)`` pairs in source order and the position to resume
after; positions are audit/finding row ids, or ``[finished_at, run_id]`` for analysis runs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import Connection, and_, func, or_, select

from ai_conductor.analysis.memory_schema import analysis_runs, dismissals, findings
from ai_conductor.context.models import ContextRecord
from ai_conductor.store import LogRow, coordination_logs

ROLES: Final = ("implementer", "refiner", "analyzer")
ACTIONS: Final = ("attempt", "apply", "stopped", "finished")
Batch = tuple[list[tuple[Any, ContextRecord]], Any]
_L, _F, _R, _D = coordination_logs.c, findings.c, analysis_runs.c, dismissals.c


def audit_records(conn: Connection, after: int, limit: int | None) -> Batch:
    """Change attempts, applies and stops of implementer and refiner; failed analyzer runs."""
    high = conn.scalar(select(func.max(_L.id))) or 0
    stmt = (
        select(coordination_logs)
        .where(_L.id > after, _L.id <= high, _L.agent_role.in_(ROLES), _L.action.in_(ACTIONS))
        .order_by(_L.id)
        .limit(limit)
    )
    rows = [LogRow.model_validate(dict(r)) for r in conn.execute(stmt).mappings()]
    notes = finding_notes(conn, (fp for r in rows for fp in r.metadata.get("findings") or []))
    out = [(row.id, rec) for row in rows if (rec := audit_record(row, notes)) is not None]
    end = rows[-1].id if limit is not None and len(rows) == limit else max(high, after)
    return out, end


def finding_notes(conn: Connection, fingerprints: Iterable[str]) -> dict[str, str]:
    """``rule at path:line: message`` of the latest stored finding of each fingerprint."""
    wanted = sorted(set(fingerprints))
    notes: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        stmt = select(_F.fingerprint, _F.data).where(
            _F.fingerprint.in_(wanted[start : start + 500])
        )
        for fp, data in conn.execute(stmt.order_by(_F.id.desc())):
            if fp not in notes and isinstance(data, dict):
                notes[fp] = f"{data.get('rule_id')} at {data.get('path')}:{data.get('line')}: " \
                    f"{data.get('message')}"  # fmt: skip
    return notes


def audit_record(row: LogRow, notes: dict[str, str]) -> ContextRecord | None:
    """The record of one audit row, or None for rows that are not a change outcome."""
    meta, role = row.metadata, row.agent_role or "agent"
    reason = row.error_message or meta.get("reason") or ""
    subject = meta.get("group") or meta.get("step") or "change"
    fixes = "; ".join(notes.get(fp, fp) for fp in meta.get("findings") or [])
    kind, text = "change_rejected", ""
    if row.action == "attempt" and row.status != "unchanged":
        files = ", ".join(meta.get("touched") or []) or "none"
        verdict = "kept" if row.status == "kept" else f"rejected ({row.status})"
        kind = "change_kept" if row.status == "kept" else kind
        text = f"{role} change {subject} {verdict}; files: {files}; tests passed: " \
            f"{meta.get('tests_passed')}"  # fmt: skip
    elif row.action == "apply":
        kind = "change_kept" if row.status == "applied" else kind
        text = f"{role} change {subject} {row.status} to the checkout (patch {meta.get('patch')})"
    elif row.action == "stopped":
        text = f"{role} stopped ({row.status}): remaining changes not attempted"
    elif row.action == "finished" and role == "analyzer" and row.status != "completed":
        kind, text = "analysis_summary", f"analysis {row.workflow_id} {row.status}"
    if not text:
        return None
    text += f". Findings: {fixes}" if fixes else ""
    text += f". Reason: {reason}" if reason else ""
    attempt = meta.get("attempt", "")
    return ContextRecord(
        workflow_id=row.workflow_id, task_id=row.task_id, context_type=kind, content=text,
        timestamp=row.created_at, key=f"audit/{row.run_id or row.id}/{row.action}/{subject}/"
        f"{attempt}",
        metadata={"source": "audit", "audit_id": row.id, "run_id": row.run_id,
                  "agent_role": role, "action": row.action, "status": row.status,
                  "reason": reason[:2000], **{k: meta[k] for k in _KEEP if k in meta}},
    )  # fmt: skip


_KEEP: Final = ("group", "step", "attempt", "backend", "touched", "findings", "patch", "branch")


def finding_records(conn: Connection, after: int, limit: int | None) -> Batch:
    """Stored findings (latest state per codebase and fingerprint)."""
    high = conn.scalar(select(func.max(_F.id))) or 0
    stmt = (
        select(_F.id, _F.data, _F.status, _F.run_id, _R.codebase_id, _R.finished_at)
        .join(analysis_runs, _R.id == _F.run_id)
        .where(_F.id > after, _F.id <= high)
        .order_by(_F.id)
        .limit(limit)
    )
    rows = conn.execute(stmt).all()
    out = []
    for fid, data, status, run_id, codebase_id, finished in rows:
        d = data or {}
        text = f"{d.get('severity')} {d.get('category')} finding {d.get('rule_id')} " \
            f"({d.get('tool')}) at {d.get('path')}:{d.get('line')}: {d.get('message')}"  # fmt: skip
        meta = {k: d.get(k) for k in ("fingerprint", "tool", "rule_id", "severity", "path", "line")}
        out.append((fid, ContextRecord(
            workflow_id=f"analysis:{codebase_id}"[:255], context_type="finding",
            content=text + (" (fixed)" if status == "fixed" else ""),
            metadata={"source": "findings", "run_id": run_id, "status": status, **meta},
            timestamp=finished or datetime.now(UTC),
            key=f"finding/{codebase_id}/{d.get('fingerprint')}",
        )))  # fmt: skip
    end = rows[-1][0] if limit is not None and len(rows) == limit else max(high, after)
    return out, end


def run_records(conn: Connection, after: list[str] | None, limit: int | None) -> Batch:
    """Analysis run summaries, in (finished_at, run id) order."""
    stmt = select(analysis_runs).where(_R.finished_at.is_not(None))
    if after:
        at = datetime.fromisoformat(after[0])
        stmt = stmt.where(or_(_R.finished_at > at, and_(_R.finished_at == at, _R.id > after[1])))
    rows = conn.execute(stmt.order_by(_R.finished_at, _R.id).limit(limit)).mappings().all()
    out = []
    for row in rows:
        s = row["summary"] or {}
        sev = ", ".join(f"{k} {v}" for k, v in (s.get("by_severity") or {}).items()) or "none"
        tools = ", ".join(str(t.get("name") or t.get("tool")) for t in row["tools"] or [])
        text = f"analysis run {row['id']} of {row['codebase_id']}: {s.get('total', 0)} findings " \
            f"(new {s.get('new', 0)}, existing {s.get('existing', 0)}, fixed " \
            f"{s.get('fixed', 0)}, dismissed {s.get('dismissed', 0)}); by severity: {sev}; " \
            f"tools: {tools or 'none'}"  # fmt: skip
        position = [row["finished_at"].isoformat(), row["id"]]
        out.append((position, ContextRecord(
            workflow_id=f"analysis:{row['codebase_id']}"[:255], context_type="analysis_summary",
            content=text, timestamp=row["finished_at"], key=f"analysis_summary/{row['id']}",
            metadata={"source": "analysis_runs", "run_id": row["id"], "summary": s,
                      "codebase_id": row["codebase_id"], "focus": row["focus"] or []},
        )))  # fmt: skip
    return out, (out[-1][0] if out else after)


def dismissal_records(conn: Connection) -> list[tuple[str, ContextRecord]]:
    """Every dismissal (the table is small), keyed by fingerprint."""
    out = []
    for row in conn.execute(select(dismissals).order_by(_D.fingerprint)).mappings():
        snap = row["snapshot"] or {}
        what = f"{snap.get('rule_id')} at {snap.get('path')}:{snap.get('line')}: " \
            f"{snap.get('message')}" if snap else f"finding {row['fingerprint']}"  # fmt: skip
        by = f" by {row['dismissed_by']}" if row["dismissed_by"] else ""
        out.append((row["fingerprint"], ContextRecord(
            workflow_id="dismissals", context_type="dismissal",
            content=f"dismissed {what}{by}. Reason: {row['reason']}",
            timestamp=row["created_at"], key=f"dismissal/{row['fingerprint']}",
            metadata={"source": "dismissals", "fingerprint": row["fingerprint"],
                      "reason": row["reason"], "dismissed_by": row["dismissed_by"]},
        )))  # fmt: skip
    return out
