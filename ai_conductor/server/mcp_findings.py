"""MCP tools over stored data: findings (list, dismiss), the context store, spec validation."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Annotated, Any, Final

from pydantic import BaseModel, Field

from ai_conductor.analysis.models import Finding
from ai_conductor.context.models import Hit
from ai_conductor.errors import UsageError
from ai_conductor.server.security import check_codebase_path
from ai_conductor.server.validation import ValidateResult

if TYPE_CHECKING:
    from mcp.server import MCPServer

    from ai_conductor.server.runs import RunManager
    from ai_conductor.settings import Settings

_FULL: Final = re.compile(r"[0-9a-f]{32,64}")


class Dismissed(BaseModel):
    """A dismissal as stored."""

    fingerprint: str
    """The finding's full fingerprint."""
    reason: str
    dismissed_by: str | None = None
    finding: dict[str, Any] | None = None
    """The finding it was recorded with, if one was stored."""


def _analysis_run(manager: RunManager, run_id: str) -> str:
    """A server run id of an analyze run stands for its analysis run id."""
    info = manager.get(run_id) if len(run_id) <= 64 else None
    if info is not None and info.kind == "analyze" and isinstance(info.result, dict):
        return str(info.result.get("analysis_run_id", run_id))
    return run_id


def register(server: MCPServer, manager: RunManager, settings: Settings) -> None:
    from ai_conductor.analysis.memory import FindingsMemory
    from ai_conductor.server.mcp_server import tool_errors

    @server.tool()
    def list_findings(
        codebase: Annotated[str | None, Field(description="Latest run of this codebase.")] = None,
        run_id: Annotated[
            str | None, Field(description="This run (an analyze run id) instead of the latest.")
        ] = None,
        severity: Annotated[
            str | None, Field(description="critical, high, medium, low or info.")
        ] = None,
        status: Annotated[str | None, Field(description="new, existing or fixed.")] = None,
        limit: Annotated[int, Field(ge=1, le=5000, description="At most this many.")] = 200,
    ) -> list[Finding]:
        """Findings of the latest stored analysis (or of run_id), most severe first."""
        with tool_errors(settings):
            codebase_id = str(check_codebase_path(codebase, settings)) if codebase else None
            return FindingsMemory.open(settings).findings(
                run_id=_analysis_run(manager, run_id) if run_id else None,
                codebase_id=codebase_id, severity=severity, status=status, limit=limit,
            )  # fmt: skip

    @server.tool()
    def dismiss_finding(
        fingerprint: Annotated[str, Field(description="Fingerprint, or a unique 8+ char prefix.")],
        reason: Annotated[str, Field(min_length=1, description="Why it is not a problem.")],
        by: Annotated[str | None, Field(description="Who dismisses it.")] = None,
    ) -> Dismissed:
        """Keep a finding out of every later report (a false positive, an accepted risk)."""
        with tool_errors(settings):
            memory = FindingsMemory.open(settings)
            prefix = fingerprint.strip()
            if len(prefix) < 8:
                raise UsageError("give at least 8 characters of the fingerprint")
            finding = memory.find(prefix)
            if finding is None and not _FULL.fullmatch(prefix):
                raise UsageError(f"no stored finding has a fingerprint starting with {prefix!r}")
            full = finding.fingerprint if finding is not None else prefix
            done = memory.dismiss(full, reason, by=by, finding=finding)
            snapshot = done.finding.model_dump(mode="json") if done.finding else None
            return Dismissed(fingerprint=done.fingerprint, reason=done.reason,
                             dismissed_by=done.dismissed_by, finding=snapshot)  # fmt: skip

    @server.tool()
    def search_context(
        query: Annotated[str, Field(min_length=1, max_length=2000, description="Search text.")],
        k: Annotated[int, Field(ge=1, le=100, description="At most this many hits.")] = 10,
        workflow_id: Annotated[str | None, Field(description="Only this workflow.")] = None,
        context_type: Annotated[str | None, Field(description="Only this record type.")] = None,
    ) -> list[Hit]:
        """Search what earlier runs recorded (events, findings, fixes) in the context store."""
        from ai_conductor.context import open_context_store

        with tool_errors(settings):
            store = open_context_store(settings)
            try:
                filters = {"workflow_id": workflow_id, "context_type": context_type}
                return store.search(query, k, {a: b for a, b in filters.items() if b})
            finally:
                store.close()

    @server.tool()
    def validate_spec(
        spec_path: Annotated[
            str | None, Field(description="Path of a spec file (inside the allowed roots).")
        ] = None,
        spec: Annotated[
            dict[str, Any] | str | None,
            Field(description="An inline spec: a JSON object, or YAML/JSON text."),
        ] = None,
    ) -> ValidateResult:
        """Check a workflow spec (syntax, unknown keys, cycles, agents) without running it; the
        same check as HTTP POST /workflows/validate, with warnings for what is probably not
        meant (e.g. a sentence that a {...} mapping split into null-valued keys)."""
        from ai_conductor.server.validation import validate

        with tool_errors(settings):
            if (spec_path is None) == (spec is None):
                raise UsageError("give exactly one of spec_path or spec")
            return validate(settings, spec, spec_path)
