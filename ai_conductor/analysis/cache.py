"""The analysis cache: a tool's result per file, and the last complete result per run.

One SQLite file under ``$CONDUCTOR_HOME/cache``. A per-file key is (tool, tool version + config
key, path, content hash): an unchanged file is never re-analysed by the same tool and options
(and the same interpreter, for tools that parse with one), and any change of the file, the
tool's version or its rule selection misses. A file the tool could not read is cached as that
failure, so a warm run counts it again without re-running the tool. Whole-program tools are
cached under the path ``*`` with the hash of the whole file set.

A run key covers everything a scan's result depends on (every file's hash, each tool's version
and config, the analysis code itself); when nothing changed, the merged, fingerprinted result
of the last run is read back in one piece instead of being rebuilt from thousands of entries.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from ai_conductor.analysis.models import FileMetrics, Finding

WHOLE = "*"
KEEP_RUNS = 64
"""Run results kept (one per codebase path; the implementer's workspaces are codebases too)."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS results (
    tool TEXT NOT NULL, tool_key TEXT NOT NULL, path TEXT NOT NULL, digest TEXT NOT NULL,
    payload TEXT NOT NULL, PRIMARY KEY (tool, tool_key, path, digest)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS runs (
    codebase TEXT PRIMARY KEY, run_key TEXT NOT NULL, meta TEXT NOT NULL,
    findings BLOB NOT NULL, stamp REAL NOT NULL
)""",
)
_FINDINGS = TypeAdapter(list[Finding])


@dataclass
class Entry:
    """One tool's result for one file (or, under ``*``, for the whole file set)."""

    findings: list[Finding] = field(default_factory=list)
    metrics: FileMetrics | None = None
    failures: dict[str, str] = field(default_factory=dict)
    """Files the tool could not read -> why (the file itself, for a per-file entry)."""


class AnalysisCache:
    """Cached tool output per file; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for ddl in _SCHEMA:
            self._db.execute(ddl)
        self._db.commit()

    def get(self, tool: str, tool_key: str, files: Mapping[str, str]) -> dict[str, Entry]:
        """Entries found for ``files`` (path -> digest)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT path, digest, payload FROM results WHERE tool = ? AND tool_key = ?",
                (tool, tool_key),
            ).fetchall()
        found: dict[str, Entry] = {}
        for path, digest, payload in rows:
            if files.get(path) == digest:
                data = json.loads(payload)
                metrics = data.get("metrics")
                found[path] = Entry(
                    [Finding.model_validate(f) for f in data["findings"]],
                    FileMetrics.model_validate(metrics) if metrics else None,
                    dict(data.get("failures") or {}),
                )
        return found

    def put(self, tool: str, tool_key: str, entries: Iterable[tuple[str, str, Entry]]) -> None:
        """Store (path, digest, entry) triples, replacing older entries for the same paths."""
        rows = []
        for path, digest, entry in entries:
            payload = {
                "findings": [f.model_dump(mode="json") for f in entry.findings],
                "metrics": entry.metrics.model_dump(mode="json") if entry.metrics else None,
                "failures": entry.failures,
            }
            rows.append((tool, tool_key, path, digest, json.dumps(payload)))
        with self._lock, self._db:
            self._db.executemany(
                "DELETE FROM results WHERE tool = ? AND tool_key = ? AND path = ?",
                [(r[0], r[1], r[2]) for r in rows],
            )
            self._db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)", rows)

    def get_run(self, codebase: str, run_key: str) -> tuple[dict[str, Any], list[Finding]] | None:
        """The result stored for ``codebase`` under ``run_key`` (None: missing or stale)."""
        with self._lock:
            row = self._db.execute(
                "SELECT meta, findings FROM runs WHERE codebase = ? AND run_key = ?",
                (codebase, run_key),
            ).fetchone()
        if row is None:
            return None
        return json.loads(row[0]), _FINDINGS.validate_json(row[1])

    def put_run(
        self, codebase: str, run_key: str, meta: Mapping[str, Any], findings: list[Finding]
    ) -> None:
        """Keep this result as the one stored for ``codebase``; forget the oldest beyond
        :data:`KEEP_RUNS` codebases."""
        row = (codebase, run_key, json.dumps(meta), _FINDINGS.dump_json(findings), time.time())
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO runs VALUES (?, ?, ?, ?, ?)", row)
            self._db.execute(
                "DELETE FROM runs WHERE codebase NOT IN "
                "(SELECT codebase FROM runs ORDER BY stamp DESC LIMIT ?)",
                (KEEP_RUNS,),
            )

    def close(self) -> None:
        with self._lock:
            self._db.close()
