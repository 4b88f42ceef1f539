"""The ``builtin`` backend: the analyzers' own safe automatic fixes (ruff), no model."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Finding
from ai_conductor.analysis.tools import find_binary, run_command
from ai_conductor.errors import AgentError, AgentUnavailable, AnalysisToolError, UsageError
from ai_conductor.implement.edits import EditRejected, safe_target
from ai_conductor.implement.models import ChangeRequest, Proposal
from ai_conductor.implement.reexport import reexport, unused_names

OPTIONS = {"format": bool}


class BuiltinBackend:
    """Applies ruff's safe fixes for the request's fixable ruff findings, in the workspace.

    Option ``format`` (default False) also runs ``ruff format`` on those files. Deterministic:
    feedback is ignored. Findings without a safe fix are left alone. An unused import (F401) of
    a public name in a public module is kept as an explicit re-export (``import x as x``)
    instead of deleted, unless the request allows API changes.
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
        if not request.allow_api_changes:
            _keep_public_imports(workspace, fixable)
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


def _keep_public_imports(workspace: Path, findings: list[Finding]) -> None:
    """Unused imports of public modules become explicit re-exports (see :mod:`.reexport`)."""
    wanted: dict[str, dict[int, set[str]]] = defaultdict(lambda: defaultdict(set))
    for f in findings:
        name = unused_names(f.message) if f.rule_id == "F401" else None
        if name:
            wanted[f.path][f.line].add(name)
    for path, lines in wanted.items():
        target = safe_target(workspace, path)
        source = target.read_text(encoding="utf-8")
        changed = reexport(path, source, dict(lines))
        if changed != source:
            target.write_text(changed, encoding="utf-8")


def _content(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


def _fatal(message: str) -> AgentError:
    """An error that retrying cannot help: this backend is deterministic."""
    error = AgentError(message)
    error.retryable = False
    return error
