"""Run the analyzer tools on a codebase and build the report.

``scan`` is the fast, Prefect-free core (the CLI calls it through ``analyze``): tools run from the
per-file cache (see :mod:`.scheduler`), under an interpreter that can parse the codebase (see
:mod:`.toolenv`); when nothing changed since the last scan of the codebase, its merged result is
read back whole (see :mod:`.cache`). ``analyze`` adds the memory across runs (one history per
codebase: new / existing / fixed, dismissals) and then narrows the report to the focus.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_conductor._version import package_version
from ai_conductor.analysis import hotspots
from ai_conductor.analysis.cache import AnalysisCache
from ai_conductor.analysis.files import FileSet, check_codebase, collect
from ai_conductor.analysis.merge import merge, skip_redundant
from ai_conductor.analysis.models import AnalysisReport, Finding, Hotspot, ToolRun
from ai_conductor.analysis.normalize import fingerprint_all
from ai_conductor.analysis.rules import FOCUS_AREAS, tags_for
from ai_conductor.analysis.scheduler import Progress, ToolOutcome, run_tools
from ai_conductor.analysis.toolenv import ToolPython, resolve
from ai_conductor.analysis.tools import DEFAULT_TOOLS, load_tool
from ai_conductor.errors import UsageError
from ai_conductor.protocols import AnalyzerTool, ParsesPython
from ai_conductor.settings import Settings, get_settings

__all__ = ["Progress", "analyze", "check_focus", "in_focus", "scan"]
RESULT_FORMAT = "1"
"""Bump when the stored run result changes shape."""


def check_focus(focus: Sequence[str]) -> list[str]:
    areas = [a.strip().lower() for a in focus if a.strip()]
    unknown = [a for a in areas if a not in FOCUS_AREAS]
    if unknown:
        known = ", ".join(sorted(FOCUS_AREAS))
        raise UsageError(f"unknown focus area(s) {', '.join(unknown)}; choose from: {known}")
    return areas


def in_focus(finding: Finding, areas: Sequence[str]) -> bool:
    return not areas or any(a == finding.category.value or a in finding.tags for a in areas)


def _bind_python(
    plugins: Sequence[AnalyzerTool], root: Path, settings: Settings
) -> ToolPython | None:
    parsers = [p for p in plugins if isinstance(p, ParsesPython)]
    if not parsers:
        return None
    python = resolve(root, settings)
    for plugin in parsers:
        plugin.use_python(python)
    return python


def _code_digest() -> str:
    """Changes whenever the analysis code (merging, tags, fingerprints) may have changed."""
    h = hashlib.sha256(f"{package_version()}\0{RESULT_FORMAT}".encode())
    for path in sorted(Path(__file__).parent.rglob("*.py")):
        info = path.stat()
        h.update(f"{path.name}\0{info.st_size}\0{info.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _run_key(fileset: FileSet, plugins: Sequence[AnalyzerTool]) -> str:
    keys = [(p.name, p.version(), p.config_key() if p.version() else "") for p in plugins]
    skipped = [(s.path, s.reason) for s in fileset.skipped]
    blob = json.dumps([fileset.digest(), skipped, keys, _code_digest()])
    return hashlib.sha256(blob.encode("utf-8", "surrogateescape")).hexdigest()


class _Result:
    """What a scan found before focus and history: merged, fingerprinted, sorted."""

    def __init__(
        self,
        findings: list[Finding],
        runs: list[ToolRun],
        spots: list[Hotspot],
        refuted: dict[str, int] | None = None,
    ) -> None:
        self.findings, self.runs, self.spots = findings, runs, spots
        self.refuted = refuted or {}
        """Pattern findings data flow showed to be harmless, by rule (``extra.merge``)."""

    def meta(self) -> dict[str, Any]:
        return {
            "runs": [r.model_dump(mode="json") for r in self.runs],
            "spots": [s.model_dump(mode="json") for s in self.spots],
            "refuted": self.refuted,
        }

    @classmethod
    def load(cls, meta: Mapping[str, Any], findings: list[Finding]) -> _Result:
        runs = [ToolRun.model_validate(r) for r in meta["runs"]]
        for run in runs:  # read back whole: every file's result came from the cache
            run.files_from_cache, run.files_analyzed, run.duration_s = run.files_total, 0, 0.0
        spots = [Hotspot.model_validate(s) for s in meta["spots"]]
        return cls(findings, runs, spots, dict(meta.get("refuted") or {}))


def _combine(outcomes: list[ToolOutcome], root: Path) -> _Result:
    findings: list[Finding] = []
    spots: list[Hotspot] = []
    for outcome in outcomes:
        for entry in outcome.entries.values():
            findings.extend(entry.findings)
            if entry.metrics is not None:
                spots.extend(hotspots.candidates(entry.metrics.functions))
    for f in findings:
        f.tags = sorted(set(f.tags) | set(tags_for(f.tool, f.rule_id, f.category)))
    ran = {o.run.name for o in outcomes if o.run.available and not o.run.error}
    merged, refuted = merge(findings, ran)
    fingerprint_all(merged, root)
    merged.sort(key=Finding.sort_key)
    return _Result(merged, [o.run for o in outcomes], spots, refuted)


def _results(
    fileset: FileSet,
    plugins: Sequence[AnalyzerTool],
    python: ToolPython | None,
    settings: Settings,
    progress: Progress | None,
) -> _Result:
    cache = AnalysisCache(settings.home_dir / "cache" / "analysis.sqlite")
    try:
        key = _run_key(fileset, plugins)
        stored = cache.get_run(str(fileset.root), key)
        if stored is not None:
            return _Result.load(*stored)
        workers = settings.analysis_workers or os.cpu_count() or 1
        outcomes = run_tools(fileset, plugins, cache, workers=workers, progress=progress)
        for plugin, outcome in zip(plugins, outcomes, strict=True):
            if python is not None and isinstance(plugin, ParsesPython) and outcome.run.available:
                outcome.run.python = python.version
        result = _combine(outcomes, fileset.root)
        if not any(o.errors for o in outcomes):  # a crashed chunk is retried next time
            cache.put_run(str(fileset.root), key, result.meta(), result.findings)
        return result
    finally:
        cache.close()


def _warnings(
    fileset: FileSet,
    runs: list[ToolRun],
    python: ToolPython | None,
    plugins: Sequence[AnalyzerTool],
) -> list[str]:
    warnings = [f"no Python files found under {fileset.root}"] if not fileset.files else []
    hints = {p.name: getattr(p, "install_hint", None) for p in plugins}
    for run in runs:
        if not run.available:
            warnings.append(
                hints.get(run.name) or f"{run.name} is not installed: its checks were skipped"
            )
        if run.error:
            warnings.append(f"{run.name}: {run.error}")
    if python is not None and python.note:
        warnings.append(python.note)
    return warnings


def scan(
    codebase: Path,
    *,
    focus: Sequence[str] = (),
    tools: Sequence[str] | None = None,
    tool_options: Mapping[str, Mapping[str, Any]] | None = None,
    codebase_id: str | None = None,
    settings: Settings | None = None,
    progress: Progress | None = None,
) -> AnalysisReport:
    """Analyse ``codebase`` and return the report (statuses not yet compared with history)."""
    settings = settings or get_settings()
    started = datetime.now(UTC)
    areas = check_focus(focus)
    root = check_codebase(codebase)
    names = list(tools or DEFAULT_TOOLS)
    options = skip_redundant(names, tool_options or {})
    plugins = [load_tool(name, options.get(name)) for name in names]
    fileset = collect(root)
    python = _bind_python(plugins, root, settings)
    result = _results(fileset, plugins, python, settings, progress)
    return AnalysisReport(
        generator_version=package_version(),
        run_id=uuid.uuid4().hex,
        codebase=str(root),
        codebase_id=codebase_id or str(root),
        started_at=started,
        finished_at=datetime.now(UTC),
        focus=areas,
        tools=result.runs,
        files_analyzed=len(fileset.files),
        skipped=fileset.skipped,
        findings=[f for f in result.findings if in_focus(f, areas)],
        hotspots=hotspots.rank_spots(result.spots, root),
        warnings=_warnings(fileset, result.runs, python, plugins),
        extra={"merge": {"refuted_by_data_flow": result.refuted}} if result.refuted else {},
    )


def analyze(
    codebase: Path,
    *,
    remember: bool = True,
    settings: Settings | None = None,
    focus: Sequence[str] = (),
    **options: Any,
) -> AnalysisReport:
    """Scan, compare with the codebase's history, store this run, then narrow to ``focus``.

    The history is one per codebase whatever the focus: every finding is compared and stored,
    and the focus only filters the report. Statuses become new / existing, the previous run's
    vanished findings are listed as fixed, dismissed findings are left out (and counted).
    ``options`` are those of :func:`scan`.
    """
    from ai_conductor.analysis.history import compare, narrow
    from ai_conductor.analysis.memory import FindingsMemory

    settings = settings or get_settings()
    areas = check_focus(focus)
    report = scan(codebase, settings=settings, **options)
    memory = FindingsMemory.open(settings)
    seen = compare(report, memory)
    if remember:
        memory.record(seen.report, carried=seen.carried)
    return narrow(seen.report, areas, dismissed=seen.dismissed)
