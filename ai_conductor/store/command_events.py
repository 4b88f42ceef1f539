"""Audit events of one-shot commands: a standalone ``conductor analyze`` and finding dismissals.

Workflow runs, audit flows and server runs record their own events; these commands used to leave
no trace in ``coordination_logs``. They go through the same write path (an :class:`EventSink`,
the audit log), so ``conductor logs`` shows them beside the runs:

- ``analyze:<absolute path>``: ``started`` / ``finished`` (status ``completed``, or ``failed``
  when the quality gate failed or the analysis did), the ``finished`` row with the analysis run
  id (``conductor findings list --run`` and ``conductor logs --run`` take it);
- ``findings``: ``dismissed`` / ``undismissed``, the fingerprint as the task id.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Final

from ai_conductor._paths import expand_user
from ai_conductor._urls import redact_userinfo
from ai_conductor.errors import ConductorError, UsageError
from ai_conductor.protocols import EventSink
from ai_conductor.store import events as ev

ANALYZER: Final = "analyzer"
FINDINGS_WORKFLOW: Final = "findings"
DISMISSED: Final = "dismissed"
UNDISMISSED: Final = "undismissed"


def shown_codebase(codebase: str | Path) -> str:
    """``codebase`` as the audit log shows it: absolute when it can be resolved, as given when
    not (``~user`` of no such user), never with the credentials of a URL given as a path."""
    try:
        shown = str(expand_user(codebase).resolve())
    except (UsageError, OSError, RuntimeError):
        shown = str(codebase)
    return redact_userinfo(shown)


def analysis_workflow(codebase: str | Path) -> str:
    """The workflow id of a standalone analysis of ``codebase``."""
    return f"analyze:{shown_codebase(codebase)}"[:255]


@contextlib.contextmanager
def analysis_run(sink: EventSink, codebase: Path, params: Mapping[str, Any]) -> Iterator[None]:
    """``started`` now; ``finished``/``failed`` when the analysis raises a :class:`ConductorError`
    (a finished analysis records its own outcome with :func:`analysis_finished`)."""
    workflow = analysis_workflow(codebase)
    sink.record(ev.AuditEvent(workflow, ev.STARTED, ev.RUNNING, agent_role=ANALYZER,
                              metadata=dict(params)))  # fmt: skip
    try:
        yield
    except ConductorError as exc:
        sink.record(ev.AuditEvent(workflow, ev.FINISHED, ev.FAILED_STATUS, agent_role=ANALYZER,
                                  error_message=redact_userinfo(str(exc))))  # fmt: skip
        raise


def analysis_finished(
    sink: EventSink, codebase: str, run_id: str, summary: Mapping[str, Any], failing: int
) -> None:
    """The analysis ``run_id`` of ``codebase`` finished; ``failing`` findings failed the gate."""
    status = ev.FAILED_STATUS if failing else ev.COMPLETED
    meta = {"summary": dict(summary), "gate": {"failing": failing}}
    sink.record(ev.AuditEvent(analysis_workflow(codebase), ev.FINISHED, status, run_id=run_id,
                              agent_role=ANALYZER, metadata=meta,
                              error_message=f"{failing} finding(s) failed the gate" if failing
                              else None))  # fmt: skip


def dismissal(
    sink: EventSink,
    fingerprint: str,
    *,
    undo: bool = False,
    reason: str | None = None,
    by: str | None = None,
    finding: Any = None,
) -> None:
    """A finding was dismissed (with the stored, scrubbed ``reason``, who, and where the
    ``finding`` was when known) or, with ``undo``, undismissed."""
    where = {k: getattr(finding, a, None) for k, a in (("rule", "rule_id"), ("path", "path"),
                                                       ("line", "line"))}  # fmt: skip
    meta = {k: v for k, v in {"reason": reason, "by": by, **where}.items() if v is not None}
    sink.record(ev.AuditEvent(FINDINGS_WORKFLOW, UNDISMISSED if undo else DISMISSED,
                              ev.COMPLETED, task_id=fingerprint, agent_role=ANALYZER,
                              metadata=meta))  # fmt: skip
