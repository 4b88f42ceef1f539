"""The embedded context store, for real: SQLite FTS5 files in tmp_path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from ai_conductor.context import ContextRecord, Embedder, open_context_store
from ai_conductor.context.embedded import EmbeddedStore
from ai_conductor.errors import ConfigError, StoreError, UsageError
from ai_conductor.settings import Settings

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)


def rec(content: str, *, wf: str = "wf-1", task: str | None = "fix", kind: str = "finding",
        at: int = 0, **meta: object) -> ContextRecord:  # fmt: skip
    return ContextRecord(
        workflow_id=wf, task_id=task, context_type=kind, content=content,
        timestamp=T0 + timedelta(minutes=at), metadata=dict(meta),
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    with EmbeddedStore(tmp_path / "context.db") as s:
        yield s


CORPUS = [
    "possible SQL injection: query built with string formatting passed to cursor.execute",
    "subprocess call with shell=True in deploy script",
    "function handle_request is too complex (cyclomatic complexity 17)",
    "hard-coded password in settings module",
    "SQL query logged at debug level",
    "unused import os in utils",
]


def test_ids_are_deterministic_and_equal_weaviate_uuid5() -> None:
    generate_uuid5 = pytest.importorskip("weaviate.util").generate_uuid5
    a, b = rec("same text"), rec("same text", at=5, extra=1)
    assert a.id == b.id == generate_uuid5(a.stable_key)
    assert rec("other text").id != a.id
    keyed = ContextRecord(workflow_id="w", context_type="finding", content="x", key="finding/abc")
    assert keyed.id == generate_uuid5("finding/abc")


def test_restoring_is_idempotent_and_updates_in_place(store: EmbeddedStore) -> None:
    first = rec("hard-coded password in settings module")
    assert store.store(first) == first.id
    assert store.store(first) == first.id
    result = store.batch_store([first, first])
    assert result.ok
    assert result.stored == [first.id, first.id]
    assert store.count() == 1
    # same key, new text: replaced (and searchable under the new text only)
    v1 = ContextRecord(workflow_id="w", context_type="finding", content="alpha", key="k")
    v2 = ContextRecord(workflow_id="w", context_type="finding", content="bravo", key="k")
    store.store(v1)
    store.store(v2)
    assert store.count() == 2
    assert store.search("alpha") == []
    assert [h.record.content for h in store.search("bravo")] == ["bravo"]


def test_bm25_puts_the_most_relevant_record_first(store: EmbeddedStore) -> None:
    store.batch_store([rec(text, at=i) for i, text in enumerate(CORPUS)])
    hits = store.search("SQL injection in cursor execute", k=3)
    assert hits[0].record.content == CORPUS[0]
    assert hits[1].record.content == CORPUS[4]  # shares only "sql"
    assert hits[0].score > hits[1].score > 0
    assert len(store.search("sql", k=1)) == 1
    # porter stemming: "passwords" finds "password"
    assert store.search("passwords")[0].record.content == CORPUS[3]


def test_query_text_is_never_fts_syntax(store: EmbeddedStore) -> None:
    store.batch_store([rec(text) for text in CORPUS])
    for query in ['"unbalanced', "NOT AND OR", "content:password", "shell*", "a - b (", "^x"]:
        store.search(query)  # no sqlite3.OperationalError
    assert store.search("   ") == []
    assert store.search("shell*")[0].record.content == CORPUS[1]


def test_filters(store: EmbeddedStore) -> None:
    store.batch_store([
        rec("sql injection one", wf="a", task="t1", kind="finding"),
        rec("sql injection two", wf="a", task="t2", kind="change_kept"),
        rec("sql injection three", wf="b", task="t1", kind="finding"),
    ])  # fmt: skip
    contents = lambda **f: sorted(h.record.content for h in store.search("sql", filters=f))  # noqa: E731
    assert contents(workflow_id="a") == ["sql injection one", "sql injection two"]
    assert contents(task_id="t1") == ["sql injection one", "sql injection three"]
    assert contents(context_type="change_kept") == ["sql injection two"]
    assert contents(workflow_id="a", context_type="finding") == ["sql injection one"]
    assert contents(workflow_id="nope") == []
    with pytest.raises(UsageError, match="allowed: workflow_id, task_id, context_type"):
        store.search("sql", filters={"severity": "high"})
    with pytest.raises(UsageError):
        store.search("sql", k=0)


def test_retrieve_context_is_newest_first_with_limit(store: EmbeddedStore) -> None:
    store.batch_store([rec(f"event {i}", at=i) for i in (3, 1, 4, 0, 2)])
    store.store(rec("other workflow", wf="wf-2", at=9))
    got = store.retrieve_context("wf-1", limit=3)
    assert [r.content for r in got] == ["event 4", "event 3", "event 2"]
    assert got[0].timestamp == T0 + timedelta(minutes=4)
    assert got[0].metadata == {}
    assert got[0].task_id == "fix"
    assert len(store.retrieve_context("wf-1", limit=50)) == 5
    assert store.retrieve_context("missing") == []


def test_metadata_and_key_round_trip(store: EmbeddedStore) -> None:
    record = ContextRecord(
        workflow_id="w", task_id=None, context_type="dismissal", content="false positive",
        metadata={"fingerprint": "abc", "lines": [1, 2]}, key="dismissal/abc", timestamp=T0,
    )  # fmt: skip
    store.store(record)
    (hit,) = store.search("false positive")
    assert hit.record == record
    assert hit.id == record.id


def test_a_refused_row_is_reported_and_the_rest_stored(store: EmbeddedStore) -> None:
    store._db().execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON context_records WHEN new.content LIKE '%REFUSE%' "
        "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END"
    )
    records = [rec("fine one"), rec("please REFUSE me"), rec("fine two")]
    result = store.batch_store(records)
    assert result.stored == [records[0].id, records[2].id]
    (failed,) = result.failed
    assert (failed.index, failed.id) == (1, records[1].id)
    assert "refused by test trigger" in failed.reason
    with pytest.raises(StoreError, match="refused by test trigger"):
        store.store(records[1])


def test_concurrent_writers_and_readers(store: EmbeddedStore) -> None:
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for i in range(40):
                store.store(rec(f"thread {n} item {i} sql injection", wf=f"wf-{n}", at=i))
                store.search("sql injection", k=5)
                store.retrieve_context(f"wf-{n}", limit=3)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert store.count() == 320
    assert len(store.search("thread", k=400)) == 320
    assert [r.content for r in store.retrieve_context("wf-3", limit=1)] == [
        "thread 3 item 39 sql injection"
    ]


class ConceptEmbedder:
    """Deterministic stand-in for an embedding model: each word maps to a concept axis.

    No embedding model can be downloaded here, and a real one would make rankings depend on
    its weights. Injected through the Embedder interface, this one makes "semantic" nearness
    explicit (sqli ~ injection ~ tainted), so the test can assert what hybrid search adds.
    """

    name = "test-concepts-v1"
    AXES = {"sqli": 0, "injection": 0, "tainted": 0, "sql": 0, "shell": 1, "subprocess": 1,
            "password": 2, "secret": 2, "credential": 2, "complex": 3, "complexity": 3}  # fmt: skip

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        self.calls.append(list(texts))
        out = []
        for text in texts:
            v = [0.0] * 5
            for word in text.lower().replace(",", " ").split():
                v[self.AXES.get(word.strip(".:()"), 4)] += 1.0
            out.append(v)
        return out


def test_hybrid_search_fuses_bm25_and_vectors(tmp_path: Path) -> None:
    embedder = ConceptEmbedder()
    assert isinstance(embedder, Embedder)
    with EmbeddedStore(tmp_path / "h.db", embedder=embedder) as store:
        store.batch_store([rec(text) for text in CORPUS])
        assert len(embedder.calls) == 1
        assert len(embedder.calls[0]) == len(CORPUS)
        # no lexical overlap at all: only the vector side can find the SQL injection record
        with EmbeddedStore(tmp_path / "h.db") as plain:
            assert plain.search("tainted sqli") == []
        hits = store.search("tainted sqli", k=2)
        assert hits[0].record.content == CORPUS[0]
        # both rankings agree on the credential record: it wins the fusion
        top = store.search("secret password", k=3)
        assert top[0].record.content == CORPUS[3]
        assert top[0].score > top[1].score
        # filters apply to the vector side too
        assert store.search("tainted sqli", filters={"workflow_id": "other"}) == []


def test_embedding_failure_fails_the_batch_with_the_reason(tmp_path: Path) -> None:
    class Broken:
        name = "broken"

        def embed(self, texts: Sequence[str]) -> list[list[float]]:
            raise StoreError("embedding endpoint http://x/v1 failed: ConnectError")

    with EmbeddedStore(tmp_path / "b.db", embedder=Broken()) as store:
        result = store.batch_store([rec("a"), rec("b")])
        assert result.stored == []
        assert [f.index for f in result.failed] == [0, 1]
        assert "ConnectError" in result.failed[0].reason
        assert store.count() == 0


def test_like_fallback_without_fts5(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ai_conductor.context import _sqlite

    monkeypatch.setattr(_sqlite, "fts5_available", lambda conn: False)  # a build without FTS5
    with EmbeddedStore(tmp_path / "like.db") as store:
        assert store.fulltext == "like"
        store.batch_store([rec(text) for text in CORPUS])
        assert store.search("sql injection execute")[0].record.content == CORPUS[0]
        assert store.search("sql", filters={"context_type": "change_kept"}) == []
    assert "falls back to a LIKE scan" in caplog.text


def test_open_context_store_from_settings(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    store = open_context_store(settings)
    try:
        assert isinstance(store, EmbeddedStore)
        assert store.embedder is None
        assert store.path == tmp_path / "home" / "context.db"
        assert store.fulltext == "fts5"
        assert store.location == f"embedded:{tmp_path / 'home' / 'context.db'}"
    finally:
        store.close()
    plugin = Settings(home=tmp_path, context_store="ai_conductor.context.registry:embedded_store")
    open_context_store(plugin, embedder=ConceptEmbedder()).close()
    with pytest.raises(ConfigError, match=r"unknown context store .redis.*embedded, weaviate"):
        open_context_store(Settings(home=tmp_path, context_store="redis"))
    with pytest.raises(ConfigError, match="cannot import no_such_module"):
        open_context_store(Settings(home=tmp_path, context_store="no_such_module:make"))
    with pytest.raises(ConfigError, match="CONDUCTOR_EMBEDDING_MODEL"):
        open_context_store(Settings(home=tmp_path, embedding_base_url="http://127.0.0.1:9/v1"))


@pytest.fixture
def embeddings_server() -> Iterator[str]:
    """A local OpenAI-compatible ``/v1/embeddings`` endpoint (stdlib), serving ConceptEmbedder
    vectors; the model ``bad`` gets HTTP 400 (which the SDK does not retry)."""
    concepts = ConceptEmbedder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if body["model"] == "bad":
                status, reply = 400, {"error": {"message": "unknown model bad", "type": "x"}}
            else:
                vectors = concepts.embed(body["input"])
                status, reply = 200, {
                    "object": "list", "model": body["model"],
                    "data": [{"object": "embedding", "index": i, "embedding": v}
                             for i, v in reversed(list(enumerate(vectors)))],
                    "usage": {"prompt_tokens": 1, "total_tokens": 1},
                }  # fmt: skip
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_configured_embedder_goes_through_the_openai_sdk(
    tmp_path: Path, embeddings_server: str
) -> None:
    from ai_conductor.context.embeddings import OpenAIEmbedder

    settings = Settings(home=tmp_path, embedding_base_url=embeddings_server, embedding_model="m")
    store = open_context_store(settings)
    try:
        assert isinstance(store, EmbeddedStore)
        assert isinstance(store.embedder, OpenAIEmbedder)
        assert store.embedder.name == "openai:m"
        assert store.batch_store([rec(text) for text in CORPUS]).ok
        # replies out of order are put back in input order: the vector side still finds it
        assert store.search("tainted sqli")[0].record.content == CORPUS[0]
    finally:
        store.close()
    bad = Settings(home=tmp_path / "b", embedding_base_url=embeddings_server, embedding_model="bad")
    with open_context_store(bad) as store:
        result = store.batch_store([rec("x")])
    assert embeddings_server in result.failed[0].reason
    assert "unknown model bad" in result.failed[0].reason
    assert "CONDUCTOR_EMBEDDING_MODEL" in result.failed[0].reason
