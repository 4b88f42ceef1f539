"""The per-file analysis cache: a tool's findings for a file, keyed by content, tool and config.

One SQLite file under ``$CONDUCTOR_HOME/cache``. A key is (tool, tool version + config key,
path, content hash): an unchanged file is never re-analysed by the same tool and options, and
any change of the file, the tool's version or its rule selection misses. Whole-program tools
are cached under the path ``*`` with the hash of the whole file set.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from ai_conductor.analysis.models import FileMetrics, Finding

WHOLE = "*"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    tool TEXT NOT NULL, tool_key TEXT NOT NULL, path TEXT NOT NULL, digest TEXT NOT NULL,
    payload TEXT NOT NULL, PRIMARY KEY (tool, tool_key, path, digest)
) WITHOUT ROWID
"""

Entry = tuple[list[Finding], FileMetrics | None]


class AnalysisCache:
    """Cached tool output per file; safe to share between threads of one process."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
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
                found[path] = (
                    [Finding.model_validate(f) for f in data["findings"]],
                    FileMetrics.model_validate(metrics) if metrics else None,
                )
        return found

    def put(self, tool: str, tool_key: str, entries: Iterable[tuple[str, str, Entry]]) -> None:
        """Store (path, digest, entry) triples, replacing older entries for the same paths."""
        rows = []
        for path, digest, (findings, metrics) in entries:
            payload = {
                "findings": [f.model_dump(mode="json") for f in findings],
                "metrics": metrics.model_dump(mode="json") if metrics else None,
            }
            rows.append((tool, tool_key, path, digest, json.dumps(payload)))
        with self._lock, self._db:
            self._db.executemany(
                "DELETE FROM results WHERE tool = ? AND tool_key = ? AND path = ?",
                [(r[0], r[1], r[2]) for r in rows],
            )
            self._db.executemany("INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?)", rows)

    def close(self) -> None:
        with self._lock:
            self._db.close()
