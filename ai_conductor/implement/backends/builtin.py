"""The ``builtin`` backend: the analyzers' own safe automatic fixes (ruff), no model."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ai_conductor.analysis.tools import find_binary, run_command
from ai_conductor.errors import AgentError, AgentUnavailable, AnalysisToolError, UsageError
from ai_conductor.implement.edits import EditRejected, safe_target
from ai_conductor.implement.models import ChangeRequest, Proposal

OPTIONS = {"format": bool}


class BuiltinBackend:
    """Applies ruff's safe fixes for the request's fixable ruff findings, in the workspace.

    Option ``format`` (default False) also runs ``ruff format`` on those files. Deterministic:
    feedback is ignored. Findings without a safe fix are left alone.
    """

    name = "builtin"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        options = dict(options or {})
        for key, value in options.items():
            if key not in OPTIONS:
                raise UsageError(f"builtin backend: unknown option {key!r}; known: format")
            if not isinstance(value, OPTIONS[key]):
                raise UsageError(f"builtin backend: option {key!r} must be true or false")
        self.format: bool = options.get("format", False)

    def propose(self, request: ChangeRequest, workspace: Path, feedback: str | None) -> Proposal:
        """Run ``ruff check --fix`` (safe fixes only) on the files of the fixable findings."""
        fixable = [f for f in request.findings if f.tool == "ruff" and f.fixable]
        if not fixable:
            return Proposal(summary=f"no automatic fix for {request.group}")
        rules = sorted({f.rule_id for f in fixable})
        files = sorted({f.path for f in fixable})
        try:
            targets = [safe_target(workspace, path) for path in files]
        except EditRejected as exc:
            raise _fatal(f"builtin backend: bad finding path: {exc}") from exc
        before = [_content(t) for t in targets]
        ruff = find_binary("ruff")
        if ruff is None:
            raise AgentUnavailable("builtin backend needs ruff: pip install ruff")
        common = ["--isolated", "--no-cache"]
        select = ",".join(rules)
        check = [ruff, "check", *common, "--fix", "--select", select, "--exit-zero", "--", *files]
        self._run(check, workspace)
        if self.format:
            self._run([ruff, "format", *common, "--", *files], workspace)
        changed = [
            p for p, t, old in zip(files, targets, before, strict=True) if _content(t) != old
        ]
        if not changed:
            return Proposal(
                summary=f"ruff had no safe fix for {', '.join(rules)} in {request.group}"
            )
        return Proposal(
            summary=f"applied ruff's safe fixes for {', '.join(rules)} in {', '.join(changed)}"
        )

    @staticmethod
    def _run(argv: list[str], workspace: Path) -> None:
        try:
            run_command("ruff", argv, cwd=workspace)
        except AnalysisToolError as exc:
            raise _fatal(f"builtin backend: {exc}") from exc


def _content(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _fatal(message: str) -> AgentError:
    """An error that retrying cannot help: this backend is deterministic."""
    error = AgentError(message)
    error.retryable = False
    return error
