"""Run every tool's pending work at once, from the per-file cache where possible.

Tools whose work runs in child processes anyway (bandit, radon: ``in_subprocess``) run their
chunks on threads, at most ``workers`` at a time; other slow in-process tools (``parallel``
plugins) get a process pool; the rest run on threads beside them. Chunks are balanced by
bytes, one per worker, so each chunk pays a tool's start-up once.

Every file a tool could not read is counted, exactly: the failures of every chunk, of chunks
that crashed (all their files, with the error), and of cached entries.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ai_conductor.analysis.cache import WHOLE, AnalysisCache, Entry
from ai_conductor.analysis.chunking import MIN_CHUNK, attribute, chunks
from ai_conductor.analysis.files import FileSet
from ai_conductor.analysis.models import FileFailure, ToolRun
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError
from ai_conductor.protocols import AnalyzerTool

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: called from the calling thread as work completes."""


@dataclass
class ToolOutcome:
    run: ToolRun
    key: str = ""
    """The tool's cache key (version + config); empty when it is not installed."""
    entries: dict[str, Entry] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


@dataclass
class _Pending:
    outcome: ToolOutcome
    tool: AnalyzerTool
    chunk: list[str]


def _run_chunk(tool: AnalyzerTool, root: str, files: list[str]) -> ToolResult:
    """Worker entry point (module level, so it pickles for the process pool)."""
    return tool.run(Path(root), files)


class _Scheduler:
    def __init__(self, fileset: FileSet, workers: int) -> None:
        self.fileset, self.workers = fileset, workers
        self.pool: cf.ProcessPoolExecutor | None = None
        self.chunk_threads = cf.ThreadPoolExecutor(workers, thread_name_prefix="analyzer-chunk")
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
        if not tool.parallel or len(files) <= MIN_CHUNK:
            return [(self.threads.submit(_run_chunk, tool, root, files), files)]
        # a daemonic process (a Dask worker, say) may not start a process pool: use threads
        in_procs = (
            not getattr(tool, "in_subprocess", False)
            and not multiprocessing.current_process().daemon
        )
        executor = self._procs() if in_procs else self.chunk_threads
        parts = self.workers * (2 if in_procs else 1)
        return [
            (executor.submit(_run_chunk, tool, root, chunk), chunk)
            for chunk in chunks(files, self.fileset.sizes, parts)
        ]

    def close(self) -> None:
        self.threads.shutdown(wait=True)
        self.chunk_threads.shutdown(wait=True)
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


def _start(
    tool: AnalyzerTool, fileset: FileSet, cache: AnalysisCache
) -> tuple[ToolOutcome, list[str]]:
    """The tool's outcome from the cache, and the files still to analyse."""
    version = tool.version()
    outcome = ToolOutcome(ToolRun(name=tool.name, version=version))
    if version is None:
        outcome.run.available = False
        return outcome, []
    outcome.key = f"{version}:{tool.config_key()}"
    if tool.per_file:
        outcome.entries = cache.get(tool.name, outcome.key, fileset.files)
        todo = [p for p in fileset.files if p not in outcome.entries]
    else:
        outcome.entries = cache.get(tool.name, outcome.key, {WHOLE: fileset.digest()})
        todo = [] if WHOLE in outcome.entries else list(fileset.files)
    outcome.run.files_analyzed = len(todo)
    outcome.run.files_from_cache = len(fileset.files) - len(todo)
    return outcome, todo


def run_tools(
    fileset: FileSet,
    tools: Sequence[AnalyzerTool],
    cache: AnalysisCache,
    *,
    workers: int,
    progress: Progress | None = None,
) -> list[ToolOutcome]:
    """Findings, metrics and failures of every tool for every file."""
    outcomes: list[ToolOutcome] = []
    pending: dict[cf.Future[ToolResult], _Pending] = {}
    scheduler = _Scheduler(fileset, workers)
    try:
        for tool in tools:
            outcome, todo = _start(tool, fileset, cache)
            outcomes.append(outcome)
            for fut, chunk in scheduler.submit(tool, todo) if todo else []:
                pending[fut] = _Pending(outcome, tool, chunk)
        _drain(pending, fileset, cache, progress)
    finally:
        scheduler.close()
    for outcome in outcomes:
        _tally(outcome.run, outcome.entries)
        if outcome.errors:
            outcome.run.error = "; ".join(outcome.errors[:3]) + (
                f" (and {len(outcome.errors) - 3} more)" if len(outcome.errors) > 3 else ""
            )
    return outcomes


def _tally(run: ToolRun, entries: dict[str, Entry]) -> None:
    failures = {path: why for entry in entries.values() for path, why in entry.failures.items()}
    run.failures = [FileFailure(path=p, reason=failures[p]) for p in sorted(failures)]
    run.files_failed = len(failures)


def _drain(
    pending: dict[cf.Future[ToolResult], _Pending],
    fileset: FileSet,
    cache: AnalysisCache,
    progress: Progress | None,
) -> None:
    total, done = len(pending), 0
    started = time.monotonic()
    for fut in cf.as_completed(pending):
        job = pending[fut]
        outcome, tool, chunk = job.outcome, job.tool, job.chunk
        done += 1
        outcome.run.duration_s = round(time.monotonic() - started, 3)
        if progress:
            progress("analyzing", done, total)
        try:
            result = fut.result()
        except Exception as exc:  # any plugin failure costs that tool's chunk, not the analysis
            kind = "" if isinstance(exc, AnalysisToolError) else f"{type(exc).__name__}: "
            message = f"{kind}{exc}"
            outcome.errors.append(message)
            reason = f"{tool.name} failed: " + " ".join(message.split())[:200]
            failed = {p: reason for p in chunk}
            if tool.per_file:
                outcome.entries.update({p: Entry(failures={p: why}) for p, why in failed.items()})
            else:
                outcome.entries[WHOLE] = Entry(failures=failed)
            continue
        named, general = attribute(result.errors, chunk, fileset.root)
        for path, message in named.items():
            result.failures.setdefault(path, message)
        result.errors = general
        outcome.errors.extend(f"{tool.name}: {e}" for e in general)
        _store(outcome, tool, chunk, result, fileset, cache)


def _store(
    outcome: ToolOutcome,
    tool: AnalyzerTool,
    chunk: list[str],
    result: ToolResult,
    fileset: FileSet,
    cache: AnalysisCache,
) -> None:
    if not tool.per_file:
        entry = Entry(list(result.findings), None, dict(result.failures))
        outcome.entries[WHOLE] = entry
        if not result.errors:
            cache.put(tool.name, outcome.key, [(WHOLE, fileset.digest(), entry)])
        return
    entries = {path: Entry([], result.metrics.get(path)) for path in chunk}
    for path, why in result.failures.items():
        entries.setdefault(path, Entry()).failures[path] = why
    for f in result.findings:
        entries.setdefault(f.path, Entry()).findings.append(f)
    outcome.entries.update(entries)
    if not result.errors:  # an error not tied to a file: the chunk is run again next time
        cache.put(
            tool.name,
            outcome.key,
            [(p, fileset.files[p], e) for p, e in entries.items() if p in fileset.files],
        )
