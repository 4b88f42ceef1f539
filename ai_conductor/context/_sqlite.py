"""SQL of the embedded context store: schema, FTS5 query building, rows to records."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import UTC, datetime
from typing import Any, Final

from ai_conductor.context.models import ContextRecord, SearchFilters

COLUMNS: Final = "rid, id, key, workflow_id, task_id, context_type, content, metadata, ts"
MAX_TERMS: Final = 32
STOPWORDS: Final = frozenset((
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "if",
    "in", "into", "is", "it", "its", "of", "on", "or", "that", "the", "their", "then", "there",
    "these", "this", "to", "was", "were", "will", "with",
))  # fmt: skip
"""Left out of queries (they still match when a query has nothing else)."""

TABLE: Final = """
CREATE TABLE IF NOT EXISTS context_records (
    rid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    key TEXT,
    workflow_id TEXT NOT NULL,
    task_id TEXT,
    context_type TEXT NOT NULL,
    content TEXT NOT NULL,
    metadata TEXT NOT NULL,
    ts TEXT NOT NULL,
    vector BLOB,
    vector_model TEXT
);
CREATE INDEX IF NOT EXISTS idx_ctx_workflow_ts ON context_records (workflow_id, ts DESC);
CREATE INDEX IF NOT EXISTS idx_ctx_type ON context_records (context_type);
"""

FTS: Final = """
CREATE VIRTUAL TABLE IF NOT EXISTS context_fts USING fts5(
    content, content='context_records', content_rowid='rid', tokenize='porter unicode61'
);
CREATE TRIGGER IF NOT EXISTS ctx_fts_insert AFTER INSERT ON context_records BEGIN
    INSERT INTO context_fts (rowid, content) VALUES (new.rid, new.content);
END;
CREATE TRIGGER IF NOT EXISTS ctx_fts_delete AFTER DELETE ON context_records BEGIN
    INSERT INTO context_fts (context_fts, rowid, content) VALUES ('delete', old.rid, old.content);
END;
CREATE TRIGGER IF NOT EXISTS ctx_fts_update AFTER UPDATE OF content ON context_records BEGIN
    INSERT INTO context_fts (context_fts, rowid, content) VALUES ('delete', old.rid, old.content);
    INSERT INTO context_fts (rowid, content) VALUES (new.rid, new.content);
END;
"""

# Re-storing an unchanged record writes nothing; a changed text drops a stale vector.
UPSERT: Final = """
INSERT INTO context_records
    (id, key, workflow_id, task_id, context_type, content, metadata, ts, vector, vector_model)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET
    key = excluded.key, workflow_id = excluded.workflow_id, task_id = excluded.task_id,
    context_type = excluded.context_type, content = excluded.content,
    metadata = excluded.metadata, ts = excluded.ts,
    vector = CASE WHEN excluded.vector IS NOT NULL THEN excluded.vector
                  WHEN content = excluded.content THEN vector END,
    vector_model = CASE WHEN excluded.vector IS NOT NULL THEN excluded.vector_model
                        WHEN content = excluded.content THEN vector_model END
WHERE content IS NOT excluded.content OR metadata IS NOT excluded.metadata
    OR ts IS NOT excluded.ts OR workflow_id IS NOT excluded.workflow_id
    OR task_id IS NOT excluded.task_id OR context_type IS NOT excluded.context_type
    OR key IS NOT excluded.key OR excluded.vector IS NOT NULL
"""


def fts5_available(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite was compiled with FTS5."""
    try:
        conn.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
    except sqlite3.OperationalError:
        return False
    conn.execute("DROP TABLE temp.fts5_probe")
    return True


def iso(ts: datetime) -> str:
    """A sortable UTC text timestamp."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def terms(query: str) -> list[str]:
    """The query's words, lower-cased, unique, in order (FTS5 syntax is never passed through)."""
    return list(dict.fromkeys(re.findall(r"\w+", query.lower())))[:MAX_TERMS]


def content_words(words: list[str]) -> list[str]:
    """``words`` without stopwords (all of them when nothing else is left)."""
    return [w for w in words if w not in STOPWORDS] or words


def match_expr(words: list[str], op: str = "OR") -> str:
    """An FTS5 MATCH expression joining the words with ``op``, each quoted as a literal."""
    return f" {op} ".join('"' + w.replace('"', '""') + '"' for w in words)


def where(filters: SearchFilters, alias: str = "r") -> tuple[str, list[str]]:
    """``AND column = ?`` clauses for the set filters, and their values."""
    items = filters.items()
    sql = "".join(f" AND {alias}.{name} = ?" for name, _ in items)
    return sql, [value for _, value in items]


def row_values(record: ContextRecord, vector: bytes | None, model: str | None) -> tuple[Any, ...]:
    """The UPSERT parameters of ``record``."""
    return (
        record.id,
        record.key,
        record.workflow_id,
        record.task_id,
        record.context_type,
        record.content,
        json.dumps(record.metadata, sort_keys=True, default=str),
        iso(record.timestamp),
        vector,
        model if vector is not None else None,
    )


def to_record(row: sqlite3.Row) -> ContextRecord:
    """A :class:`ContextRecord` from a ``context_records`` row."""
    return ContextRecord(
        workflow_id=row["workflow_id"],
        task_id=row["task_id"],
        context_type=row["context_type"],
        content=row["content"],
        metadata=json.loads(row["metadata"]),
        timestamp=datetime.strptime(row["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        key=row["key"],
    )
