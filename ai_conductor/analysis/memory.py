"""Memory across analysis runs: stored findings, new/existing/fixed, and dismissals.

Each run's findings go to the audit database (``analysis_runs`` and ``findings``, migration
``0003_findings``), one history per codebase whatever the focus. :func:`classify` (in
:mod:`.history`) compares a report with the previous run of the same codebase; dismissed
fingerprints (``dismissals``) stay out of every later report.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Engine, delete, insert, select
from sqlalchemy.exc import IntegrityError

from ai_conductor.analysis.history import Baseline, classify
from ai_conductor.analysis.memory_schema import (
    Dismissal,
    RunSummary,
    analysis_runs,
    checked_fingerprint,
    checked_limit,
    choice,
    clip,
    dismissal,
    dismissals,
    finding_row,
    findings,
    findings_raw,
    guard,
    latest_run,
    run_summary,
    scrub,
    upsert_dismissal,
)
from ai_conductor.analysis.models import AnalysisReport, Finding, FindingStatus, Severity
from ai_conductor.errors import UsageError
from ai_conductor.protocols import EventSink
from ai_conductor.settings import Settings
from ai_conductor.store import command_events

__all__ = ["Baseline", "Dismissal", "FindingsMemory", "RunSummary", "classify"]
MIN_PREFIX = 6
_R, _F, _D = analysis_runs.c, findings.c, dismissals.c
_FIXED = FindingStatus.FIXED.value
_IN = 500
"""Fingerprints per ``IN (...)`` list."""


class FindingsMemory:
    """Stored runs, findings and dismissals in one audit database (the engine is not owned)."""

    def __init__(self, engine: Engine, audit: EventSink | None = None) -> None:
        self.engine = engine
        self.audit = audit
        """Where dismissals are recorded (``open`` passes the audit log; None: nowhere)."""

    @classmethod
    def open(cls, settings: Settings | None = None) -> FindingsMemory:
        """The memory in the audit database of ``settings`` (migrated to head on first use);
        dismissals are recorded in that audit log."""
        from ai_conductor.store import open_audit_log

        log = open_audit_log(settings)
        return cls(log.engine(), audit=log)

    def previous_findings(
        self, codebase_id: str, *, before_run: str | None = None
    ) -> list[Finding] | None:
        """Current findings of the latest stored run of ``codebase_id`` (None: never analysed).

        With ``before_run``, that run and any stored after it are not considered.
        """
        with guard(self.engine), self.engine.connect() as conn:
            run = latest_run(conn, codebase_id, before_run)
            if run is None:
                return None
            stmt = select(_F.data).where(_F.run_id == run, _F.status.is_distinct_from(_FIXED))
            return [Finding.model_validate(d) for d in conn.scalars(stmt.order_by(_F.id))]

    def baseline(self, codebase_id: str) -> Baseline | None:
        """What the codebase's latest run found, as (fingerprint, tool, path) only (cheap).

        A codebase analysed only by an older ai-conductor, which kept one history per focus
        (``codebase_id?focus=...``), starts from the newest of those histories.
        """
        with guard(self.engine), self.engine.connect() as conn:
            run = latest_run(conn, codebase_id, None)
            if run is None:
                legacy = _R.codebase_id.startswith(clip(codebase_id, 1000) + "?", autoescape=True)
                stmt = select(_R.id).where(legacy)
                run = conn.scalars(stmt.order_by(_R.finished_at.desc()).limit(1)).first()
            if run is None:
                return None
            rows = conn.execute(
                select(_F.fingerprint, _F.tool, _F.path)
                .where(_F.run_id == run, _F.status.is_distinct_from(_FIXED))
                .order_by(_F.id)
            ).all()
        return Baseline(run, [(fp, tool or "", path or "") for fp, tool, path in rows])

    def load(self, run_id: str, fingerprints: Iterable[str]) -> list[Finding]:
        """The current findings of ``run_id`` with these fingerprints, in stored order."""
        wanted = sorted(set(fingerprints))
        rows: list[Any] = []
        with guard(self.engine), self.engine.connect() as conn:
            for i in range(0, len(wanted), _IN):
                rows += conn.execute(
                    select(_F.id, _F.data).where(
                        _F.run_id == run_id,
                        _F.status.is_distinct_from(_FIXED),
                        _F.fingerprint.in_(wanted[i : i + _IN]),
                    )
                ).all()
        return [Finding.model_validate(data) for _, data in sorted(rows, key=lambda r: r[0])]

    def dismissed(self) -> dict[str, Dismissal]:
        """Every dismissal, by fingerprint."""
        with guard(self.engine), self.engine.connect() as conn:
            rows = conn.execute(select(dismissals).order_by(_D.created_at)).mappings().all()
        return {row["fingerprint"]: dismissal(row) for row in rows}

    def dismiss(
        self,
        fingerprint: str,
        reason: str,
        *,
        by: str | None = None,
        finding: Finding | None = None,
    ) -> Dismissal:
        """Keep ``fingerprint`` out of later reports; dismissing again updates the reason."""
        if not reason.strip():
            raise UsageError("a dismissal needs a reason (--reason)")
        fingerprint = checked_fingerprint(fingerprint)
        values: dict[str, Any] = {"reason": scrub(reason.strip())}
        if by:
            values["dismissed_by"] = clip(by, 255)
        if finding is not None:
            values["snapshot"] = scrub(finding.model_dump(mode="json"))
        with guard(self.engine):
            try:
                with self.engine.begin() as conn:
                    done = upsert_dismissal(conn, fingerprint, values)
            except IntegrityError:  # inserted concurrently: update that one
                with self.engine.begin() as conn:
                    done = upsert_dismissal(conn, fingerprint, values)
        if self.audit is not None:
            command_events.dismissal(self.audit, fingerprint, reason=done.reason,
                                     by=done.dismissed_by, finding=done.finding)  # fmt: skip
        return done

    def undismiss(self, fingerprint: str) -> bool:
        """Let ``fingerprint`` be reported again; False when it was not dismissed."""
        with guard(self.engine), self.engine.begin() as conn:
            gone = bool(
                conn.execute(delete(dismissals).where(_D.fingerprint == fingerprint)).rowcount
            )
        if gone and self.audit is not None:
            command_events.dismissal(self.audit, fingerprint, undo=True)
        return gone

    def record(self, report: AnalysisReport, *, carried: Sequence[Finding] = ()) -> None:
        """Store the run and its findings (fixed ones too) in one transaction; replaces a run
        stored before under the same ``run_id``.

        ``carried``: earlier findings this run could not check again (a tool not run, a file a
        tool could not read), kept as existing so the history stays whole.
        """
        if not report.run_id or len(report.run_id) > 64:
            raise UsageError(f"run_id must be 1 to 64 characters, got {report.run_id!r}")
        run = {
            "id": report.run_id,
            "codebase_id": clip(report.codebase_id, 1024),
            "codebase": clip(report.codebase, 1 << 20),
            "started_at": report.started_at,
            "finished_at": report.finished_at,
            "focus": scrub(report.focus),
            "summary": report.summary.model_dump(mode="json"),
            "tools": scrub([t.model_dump(mode="json") for t in report.tools]),
        }
        rows = [finding_row(report.run_id, f) for f in report.findings]
        rows += [finding_row(report.run_id, f, FindingStatus.EXISTING) for f in carried]
        rows += [finding_row(report.run_id, f, FindingStatus.FIXED) for f in report.fixed]
        with guard(self.engine), self.engine.begin() as conn:
            conn.execute(delete(findings).where(_F.run_id == report.run_id))
            conn.execute(delete(analysis_runs).where(_R.id == report.run_id))
            conn.execute(insert(analysis_runs), run)
            if rows:
                conn.execute(insert(findings_raw), rows)  # one executemany

    def runs(self, codebase_id: str | None = None, limit: int = 20) -> list[RunSummary]:
        """Stored runs, newest first."""
        stmt = select(analysis_runs).order_by(_R.finished_at.desc()).limit(checked_limit(limit))
        if codebase_id is not None:
            stmt = stmt.where(_R.codebase_id == clip(codebase_id, 1024))
        with guard(self.engine), self.engine.connect() as conn:
            return [run_summary(row) for row in conn.execute(stmt).mappings()]

    def findings(
        self,
        *,
        run_id: str | None = None,
        codebase_id: str | None = None,
        severity: str | None = None,
        status: str | None = None,
        limit: int = 200,
    ) -> list[Finding]:
        """Findings of ``run_id``, else of the latest run (of ``codebase_id`` if given).

        ``status``: new, existing or fixed; without it, the run's current (new + existing) ones.
        """
        stmt = select(_F.data).order_by(_F.id).limit(checked_limit(limit))
        if severity is not None:
            stmt = stmt.where(_F.severity == choice("severity", severity, Severity))
        wanted = choice("status", status, FindingStatus) if status is not None else None
        stmt = stmt.where(_F.status == wanted if wanted else _F.status.is_distinct_from(_FIXED))
        with guard(self.engine), self.engine.connect() as conn:
            run = run_id if run_id is not None else latest_run(conn, codebase_id, None)
            if run is None:
                return []
            if run_id is not None and codebase_id is not None:
                of_codebase = select(_R.id).where(_R.codebase_id == clip(codebase_id, 1024))
                stmt = stmt.where(_F.run_id.in_(of_codebase))
            return [Finding.model_validate(d) for d in conn.scalars(stmt.where(_F.run_id == run))]

    def find(self, fingerprint_prefix: str) -> Finding | None:
        """The latest stored finding whose fingerprint starts with the prefix (unique, >= 6)."""
        prefix = fingerprint_prefix.strip()
        if len(prefix) < MIN_PREFIX:
            raise UsageError(f"give at least {MIN_PREFIX} characters of a fingerprint: {prefix!r}")
        matching = select(_F.fingerprint).where(_F.fingerprint.startswith(prefix, autoescape=True))
        with guard(self.engine), self.engine.connect() as conn:
            found = sorted(conn.scalars(matching.distinct().limit(11)))
            if len(found) > 1:
                more = ", ..." if len(found) > 10 else ""
                raise UsageError(
                    f"fingerprint prefix {prefix!r} is ambiguous: it matches "
                    f"{', '.join(found[:10])}{more}; give more characters"
                )
            if not found:
                return None
            latest = (
                select(_F.data)
                .join(analysis_runs, _R.id == _F.run_id)
                .where(_F.fingerprint == found[0])
                .order_by(_R.finished_at.desc(), _F.id.desc())
                .limit(1)
            )
            return Finding.model_validate(conn.scalars(latest).one())
