"""Run the analyzer tools on a codebase: cached per file, slow tools in parallel processes.

``run_tools`` is the fast, Prefect-free core (the CLI calls it directly); ``analyze`` adds the
memory across runs (new / existing / fixed, dismissals) and returns the report.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ai_conductor._version import package_version
from ai_conductor.analysis import hotspots
from ai_conductor.analysis.cache import WHOLE, AnalysisCache, Entry
from ai_conductor.analysis.files import FileSet, check_codebase, collect
from ai_conductor.analysis.models import AnalysisReport, FileMetrics, Finding, ToolRun
from ai_conductor.analysis.normalize import fingerprint_all, merge_duplicates
from ai_conductor.analysis.rules import FOCUS_AREAS, equivalent, tags_for
from ai_conductor.analysis.tools import DEFAULT_TOOLS, load_tool
from ai_conductor.analysis.tools.base import AnalyzerTool, ToolResult
from ai_conductor.errors import AnalysisToolError, UsageError
from ai_conductor.settings import Settings, get_settings

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called from the calling thread as work completes."""

MIN_CHUNK = 8


@dataclass
class ToolOutcome:
    run: ToolRun
    entries: dict[str, Entry] = field(default_factory=dict)


def _run_chunk(tool: AnalyzerTool, root: str, files: list[str]) -> ToolResult:
    """Worker-process entry point (module level, so it pickles)."""
    return tool.run(Path(root), files)


def _chunks(files: list[str], parts: int) -> list[list[str]]:
    size = max(MIN_CHUNK, -(-len(files) // parts))
    return [files[i : i + size] for i in range(0, len(files), size)]


def _split(result: ToolResult, files: Sequence[str]) -> dict[str, Entry]:
    entries: dict[str, Entry] = {path: ([], result.metrics.get(path)) for path in files}
    for f in result.findings:
        entries.setdefault(f.path, ([], None))[0].append(f)
    return entries


class _Scheduler:
    """Runs every tool's pending work at once: process pool for slow tools, threads for others."""

    def __init__(self, fileset: FileSet, cache: AnalysisCache, workers: int) -> None:
        self.fileset, self.cache, self.workers = fileset, cache, workers
        self.pool: cf.ProcessPoolExecutor | None = None
        self.threads = cf.ThreadPoolExecutor(max_workers=4, thread_name_prefix="analyzer")

    def _procs(self) -> cf.ProcessPoolExecutor:
        if self.pool is None:
            ctx = multiprocessing.get_context("spawn")  # no fork: the audit writer is a thread
            self.pool = cf.ProcessPoolExecutor(max_workers=self.workers, mp_context=ctx)
        return self.pool

    def submit(
        self, tool: AnalyzerTool, files: list[str]
    ) -> list[tuple[cf.Future[ToolResult], list[str]]]:
        root = str(self.fileset.root)
        # a daemonic process (a Dask worker, say) may not start children: stay on threads
        can_fork = not multiprocessing.current_process().daemon
        if tool.parallel and len(files) > MIN_CHUNK and can_fork:
            return [
                (self._procs().submit(_run_chunk, tool, root, chunk), chunk)
                for chunk in _chunks(files, self.workers * 3)
            ]
        return [(self.threads.submit(_run_chunk, tool, root, files), files)]

    def close(self) -> None:
        self.threads.shutdown(wait=True)
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def run_tools(
    fileset: FileSet,
    tools: Sequence[AnalyzerTool],
    cache: AnalysisCache,
    *,
    workers: int,
    progress: Progress | None = None,
) -> list[ToolOutcome]:
    """Findings and metrics of every tool for every file, from the cache where possible."""
    outcomes: list[ToolOutcome] = []
    pending: dict[cf.Future[ToolResult], tuple[ToolOutcome, AnalyzerTool, str, list[str]]] = {}
    scheduler = _Scheduler(fileset, cache, workers)
    try:
        for tool in tools:
            version = tool.version()
            outcome = ToolOutcome(ToolRun(name=tool.name, version=version))
            outcomes.append(outcome)
            if version is None:
                outcome.run.available = False
                continue
            key = f"{version}:{tool.config_key()}"
            wanted = dict(fileset.files) if tool.per_file else {WHOLE: fileset.digest()}
            outcome.entries = cache.get(tool.name, key, wanted)
            outcome.run.files_from_cache = len(outcome.entries) if tool.per_file else 0
            todo = [p for p in fileset.files if p not in outcome.entries] if tool.per_file else (
                list(fileset.files) if WHOLE not in outcome.entries else []
            )  # fmt: skip
            outcome.run.files_analyzed = len(todo)
            for fut, chunk in scheduler.submit(tool, todo) if todo else []:
                pending[fut] = (outcome, tool, key, chunk)
        _drain(pending, fileset, cache, progress)
    finally:
        scheduler.close()
    return outcomes


def _drain(
    pending: dict[cf.Future[ToolResult], tuple[ToolOutcome, AnalyzerTool, str, list[str]]],
    fileset: FileSet,
    cache: AnalysisCache,
    progress: Progress | None,
) -> None:
    total, done = len(pending), 0
    started = time.monotonic()
    for fut in cf.as_completed(pending):
        outcome, tool, key, chunk = pending[fut]
        done += 1
        try:
            result = fut.result()
        except Exception as exc:  # any plugin failure costs that tool's chunk, not the analysis
            kind = "" if isinstance(exc, AnalysisToolError) else f"{type(exc).__name__}: "
            outcome.run.error = f"{tool.name}: {kind}{exc}"
            continue

        if tool.per_file:
            entries = _split(result, chunk)
            cacheable = [  # files a tool could not read are retried next time, not cached clean
                (p, fileset.files[p], e) for p, e in entries.items()
                if p in fileset.files and not any(p in err for err in result.errors)
            ]  # fmt: skip
            cache.put(tool.name, key, cacheable)
        else:
            entries = {WHOLE: (result.findings, None)}
            cache.put(tool.name, key, [(WHOLE, fileset.digest(), entries[WHOLE])])
        outcome.entries.update(entries)
        outcome.run.duration_s = round(time.monotonic() - started, 3)
        if result.errors and not outcome.run.error:
            outcome.run.error = f"{len(result.errors)} file(s) not analysed: {result.errors[0]}"
        if progress:
            progress("analyzing", done, total)


def history_key(codebase_id: str, focus: Sequence[str], tools: Sequence[str] | None) -> str:
    """Runs are compared only with runs that looked at the same things: a focused or
    tool-restricted run gets its own history, so it never turns the rest into 'fixed'."""
    key = codebase_id
    if focus:
        key += "?focus=" + ",".join(sorted(focus))
    if tools and sorted(tools) != sorted(DEFAULT_TOOLS):
        key += ("&" if "?" in key else "?") + "tools=" + ",".join(sorted(tools))
    return key


def check_focus(focus: Sequence[str]) -> list[str]:
    areas = [a.strip().lower() for a in focus if a.strip()]
    unknown = [a for a in areas if a not in FOCUS_AREAS]
    if unknown:
        known = ", ".join(sorted(FOCUS_AREAS))
        raise UsageError(f"unknown focus area(s) {', '.join(unknown)}; choose from: {known}")
    return areas


def _in_focus(finding: Finding, areas: Sequence[str]) -> bool:
    return not areas or any(a == finding.category.value or a in finding.tags for a in areas)


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
    plugins = [load_tool(name, (tool_options or {}).get(name)) for name in tools or DEFAULT_TOOLS]
    fileset = collect(root)
    cache = AnalysisCache(settings.home_dir / "cache" / "analysis.sqlite")
    workers = settings.analysis_workers or os.cpu_count() or 1
    try:
        outcomes = run_tools(fileset, plugins, cache, workers=workers, progress=progress)
    finally:
        cache.close()
    findings: list[Finding] = []
    metrics: dict[str, FileMetrics] = {}
    warnings = [f"no Python files found under {root}"] if not fileset.files else []
    for outcome in outcomes:
        if not outcome.run.available:
            warnings.append(f"{outcome.run.name} is not installed: its checks were skipped")
        if outcome.run.error:
            warnings.append(outcome.run.error)
        for path, (found, file_metrics) in outcome.entries.items():
            findings.extend(found)
            if file_metrics is not None:
                metrics[path] = file_metrics
    for f in findings:
        f.tags = sorted(set(f.tags) | set(tags_for(f.tool, f.rule_id, f.category)))
    merged = [f for f in merge_duplicates(findings, equivalent) if _in_focus(f, areas)]
    fingerprint_all(merged, root)
    merged.sort(key=Finding.sort_key)
    return AnalysisReport(
        generator_version=package_version(),
        run_id=uuid.uuid4().hex,
        codebase=str(root),
        codebase_id=history_key(codebase_id or str(root), areas, tools),
        started_at=started,
        finished_at=datetime.now(UTC),
        focus=areas,
        tools=[o.run for o in outcomes],
        files_analyzed=len(fileset.files),
        skipped=fileset.skipped,
        findings=merged,
        hotspots=hotspots.rank(metrics, root),
        warnings=warnings,
    )


def analyze(
    codebase: Path,
    *,
    remember: bool = True,
    settings: Settings | None = None,
    **options: Any,
) -> AnalysisReport:
    """Scan, then compare with the previous run of the same codebase and store this one.

    Statuses become new / existing, the previous run's vanished findings are listed as fixed,
    dismissed findings are left out (and counted). ``options`` are those of :func:`scan`.
    """
    from ai_conductor.analysis.memory import FindingsMemory, classify

    settings = settings or get_settings()
    report = scan(codebase, settings=settings, **options)
    memory = FindingsMemory.open(settings)
    previous = memory.previous_findings(report.codebase_id)
    incomplete = {t.name for t in report.tools if not t.available or t.error}
    if previous is not None:  # what this run could not re-check is not 'fixed'
        skipped = {s.path for s in report.skipped}
        previous = [
            f for f in previous
            if _in_focus(f, report.focus) and f.tool not in incomplete and f.path not in skipped
        ]  # fmt: skip
    report = classify(report, previous, memory.dismissed())
    if remember:
        memory.record(report)
    return report


def by_path(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        grouped[f.path].append(f)
    return grouped
