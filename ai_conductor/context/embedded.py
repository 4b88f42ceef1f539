"""The ``embedded`` context store: one SQLite file under ``$CONDUCTOR_HOME`` (``context.db``).

Full-text search is SQLite FTS5 ranked by BM25 (porter stemming, stopwords left out of
queries), in two tiers: records that contain every query word first, by BM25; then, to fill
``k``, records that contain some of them, by BM25 over the selective words (those in at most
5% of the records or 2000 of them: the very common ones add little and cost most). With an
:class:`~ai_conductor.protocols.Embedder` the store also keeps a unit vector per record and
search becomes hybrid: the BM25 ranking and a brute-force cosine ranking are merged by
reciprocal rank fusion. Without FTS5 (a SQLite built without it) search falls back to a
``LIKE`` scan scored by matched words, and says so in a warning and in :attr:`fulltext`.

One connection, guarded by a lock, so a store can be shared between threads. Queries are
assembled from constant fragments and ``?`` placeholders only (hence the S608 waivers).
"""

from __future__ import annotations

import heapq
import logging
import sqlite3
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ai_conductor.context import _sqlite as q
from ai_conductor.context.embeddings import dot, fuse, pack, unpack
from ai_conductor.context.models import (
    BatchResult,
    ContextRecord,
    FailedRecord,
    Hit,
    SearchFilters,
)
from ai_conductor.errors import StoreError, UsageError
from ai_conductor.protocols import Embedder

log = logging.getLogger("ai_conductor.context")
CANDIDATES = 50
"""How many results of each ranking hybrid search fuses (at least ``k``)."""
SELECTIVE = 0.05
MIN_SELECTIVE = 2000
"""Second-tier words: in at most 5% of the records, or at most 2000 of them."""


class EmbeddedStore:
    """Context records in a SQLite file: FTS5/BM25 search, optional hybrid vectors."""

    def __init__(
        self, path: Path, *, embedder: Embedder | None = None, fts5: bool | None = None
    ) -> None:
        self.path, self.embedder = path, embedder
        self.location = f"embedded:{path}"
        self._lock = threading.RLock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.executescript(
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;"
            )
            self.fulltext = "fts5" if (q.fts5_available(conn) if fts5 is None else fts5) else "like"
            conn.executescript(q.TABLE + (q.FTS if self.fulltext == "fts5" else ""))
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"cannot open the embedded context store {path}: {exc}; check that "
                "CONDUCTOR_HOME is writable"
            ) from None
        if self.fulltext == "like" and fts5 is None:
            log.warning("SQLite has no FTS5 here: context search falls back to a LIKE scan")
        self._conn: sqlite3.Connection | None = conn

    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise StoreError(f"the context store {self.path} is closed; open it again")
        return self._conn

    def count(self) -> int:
        """Number of stored records."""
        with self._lock:
            return int(self._db().execute("SELECT count(*) FROM context_records").fetchone()[0])

    # -- writing ---------------------------------------------------------------------------

    def store(self, record: ContextRecord) -> str:
        result = self.batch_store([record])
        if result.failed:
            raise StoreError(f"context store {self.path}: {result.failed[0].reason}")
        return record.id

    def batch_store(self, records: Sequence[ContextRecord]) -> BatchResult:
        vectors: list[bytes | None] = [None] * len(records)
        model = self.embedder.name if self.embedder else None
        if self.embedder is not None and records:
            try:
                vectors = [pack(v) for v in self.embedder.embed([r.content for r in records])]
            except StoreError as exc:
                return _all_failed(records, f"embedding failed: {exc}")
        rows = [q.row_values(r, v, model) for r, v in zip(records, vectors, strict=True)]
        with self._lock:
            db = self._db()
            try:
                with db:
                    db.execute("BEGIN IMMEDIATE")
                    db.executemany(q.UPSERT, rows)
                return BatchResult(stored=[r.id for r in records])
            except sqlite3.Error:
                pass  # one bad row fails the statement: store one by one to name it
            result = BatchResult()
            for index, (record, row) in enumerate(zip(records, rows, strict=True)):
                try:
                    with db:
                        db.execute("BEGIN IMMEDIATE")
                        db.execute(q.UPSERT, row)
                    result.stored.append(record.id)
                except sqlite3.Error as exc:
                    reason = f"{type(exc).__name__}: {exc}"
                    result.failed.append(FailedRecord(index=index, id=record.id, reason=reason))
            return result

    # -- reading ---------------------------------------------------------------------------

    def retrieve_context(self, workflow_id: str, limit: int = 20) -> list[ContextRecord]:
        _check(limit, "limit")
        sql = (
            f"SELECT {q.COLUMNS} FROM context_records WHERE workflow_id = ? "  # noqa: S608
            "ORDER BY ts DESC, rid DESC LIMIT ?"
        )
        with self._lock:
            rows = self._db().execute(sql, (workflow_id, limit)).fetchall()
        return [q.to_record(row) for row in rows]

    def search(
        self, query: str, k: int = 10, filters: SearchFilters | Mapping[str, Any] | None = None
    ) -> list[Hit]:
        _check(k, "k")
        chosen = SearchFilters.of(filters)
        words = q.terms(query)
        if not words:
            return []
        n = max(k, CANDIDATES) if self.embedder else k
        with self._lock:
            text = self._fulltext(words, chosen, n)
            if self.embedder is None:
                ranked = text
            else:
                semantic = self._nearest(query, chosen, n)
                ranked = fuse([rid for rid, _ in text], [rid for rid, _ in semantic])[:k]
            records = self._fetch([rid for rid, _ in ranked])
        return [Hit(id=records[rid].id, score=s, record=records[rid]) for rid, s in ranked]

    def _fulltext(
        self, words: list[str], filters: SearchFilters, n: int
    ) -> list[tuple[int, float]]:
        if self.fulltext != "fts5":
            return self._like(words, filters, n)
        words = q.content_words(words)
        ranked = self._match(q.match_expr(words, "AND"), filters, n)
        if len(ranked) >= n or len(words) == 1:
            return ranked
        # second tier: records with some of the words; words in very many records are left
        # out (low IDF, and scoring every record that has them is what makes search slow)
        df = {w: self._df(w) for w in words}
        limit = max(SELECTIVE * self.count(), MIN_SELECTIVE)
        some = [w for w in words if df[w] <= limit] or [min(words, key=df.__getitem__)]
        floor = ranked[-1][1] if ranked else float("inf")
        seen = {rid for rid, _ in ranked}
        more = self._match(q.match_expr(some), filters, n)
        ranked += [(rid, min(s, floor)) for rid, s in more if rid not in seen]
        return ranked[:n]

    def _match(self, expr: str, filters: SearchFilters, n: int) -> list[tuple[int, float]]:
        extra, params = q.where(filters)
        if extra:
            sql = (
                "SELECT r.rid, -bm25(context_fts) AS score FROM context_fts "  # noqa: S608
                "JOIN context_records r ON r.rid = context_fts.rowid "
                f"WHERE context_fts MATCH ?{extra} ORDER BY bm25(context_fts), r.rid LIMIT ?"
            )
        else:  # FTS5's own top-n path: no join while ranking
            sql = (
                "SELECT rowid, -rank FROM context_fts WHERE context_fts MATCH ? "
                "ORDER BY rank, rowid LIMIT ?"
            )
        rows = self._db().execute(sql, [expr, *params, n]).fetchall()
        return [(int(rid), float(score)) for rid, score in rows]

    def _df(self, word: str) -> int:
        sql = "SELECT count(*) FROM context_fts WHERE context_fts MATCH ?"
        return int(self._db().execute(sql, [q.match_expr([word])]).fetchone()[0])

    def _like(self, words: list[str], filters: SearchFilters, n: int) -> list[tuple[int, float]]:
        extra, params = q.where(filters)
        hits = " + ".join("(instr(lower(r.content), ?) > 0)" for _ in words)
        sql = (
            f"SELECT r.rid, ({hits}) AS score FROM context_records r "  # noqa: S608
            f"WHERE score > 0{extra} ORDER BY score DESC, r.rid LIMIT ?"
        )
        rows = self._db().execute(sql, [*words, *params, n]).fetchall()
        return [(int(rid), float(score)) for rid, score in rows]

    def _nearest(self, query: str, filters: SearchFilters, n: int) -> list[tuple[int, float]]:
        assert self.embedder is not None
        probe = unpack(pack(self.embedder.embed([query])[0]))
        extra, params = q.where(filters)
        sql = (
            "SELECT r.rid, r.vector FROM context_records r "  # noqa: S608
            f"WHERE r.vector IS NOT NULL AND r.vector_model = ?{extra}"
        )
        rows = self._db().execute(sql, [self.embedder.name, *params])
        scored = ((dot(probe, unpack(blob)), int(rid)) for rid, blob in rows)
        return [(rid, score) for score, rid in heapq.nlargest(n, scored)]

    def _fetch(self, rids: list[int]) -> dict[int, ContextRecord]:
        if not rids:
            return {}
        marks = ",".join("?" * len(rids))
        sql = f"SELECT {q.COLUMNS} FROM context_records WHERE rid IN ({marks})"  # noqa: S608
        return {row["rid"]: q.to_record(row) for row in self._db().execute(sql, rids)}


def _check(value: int, name: str) -> None:
    if value < 1:
        raise UsageError(f"{name} must be at least 1, got {value}")


def _all_failed(records: Sequence[ContextRecord], reason: str) -> BatchResult:
    return BatchResult(
        failed=[FailedRecord(index=i, id=r.id, reason=reason) for i, r in enumerate(records)]
    )
