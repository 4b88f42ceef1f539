"""The weaviate context store against an in-process fake server (REST + gRPC), asserting the
requests the v4 client sends on our behalf. No Weaviate server can run here (shared/FACTS.md);
``test_weaviate_live.py`` runs the same flows against a real one when WEAVIATE_URL is set."""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

pytest.importorskip("weaviate", reason="weaviate-client is not installed (extra: weaviate)")
pytest.importorskip("grpc_health", reason="grpcio-health-checking is not installed (dev)")

from ai_conductor.context import ContextRecord, init_collection, open_context_store
from ai_conductor.context.weaviate_schema import PROPERTIES, connection_kind
from ai_conductor.context.weaviate_store import WeaviateStore
from ai_conductor.errors import ConfigError, StoreError
from ai_conductor.settings import Settings
from tests.context.test_embedded import ConceptEmbedder
from tests.context.weaviate_mock import FakeWeaviate, Running, free_port

T0 = datetime(2025, 5, 1, 9, 0, tzinfo=UTC)
SEED = {"workflow_id", "task_id", "context_type", "content", "metadata", "timestamp"}


@pytest.fixture
def server() -> Iterator[FakeWeaviate]:
    running = Running()
    yield running.fake
    running.close()


def settings_for(fake: FakeWeaviate, **over: Any) -> Settings:
    values: dict[str, Any] = {
        "context_store": "weaviate",
        "weaviate_url": fake.url,
        "weaviate_grpc_port": fake.grpc_port,
        "weaviate_skip_init_checks": True,
        "weaviate_timeout": 10,
    }
    return Settings(**(values | over))


def rec(content: str, **over: Any) -> ContextRecord:
    fields: dict[str, Any] = {
        "workflow_id": "wf-1", "task_id": "fix", "context_type": "finding",
        "content": content, "timestamp": T0, "metadata": {"n": 1},
    }  # fmt: skip
    return ContextRecord(**(fields | over))


def test_init_collection_creates_the_seed_collection_then_changes_nothing(
    server: FakeWeaviate,
) -> None:
    settings = settings_for(server)
    first = init_collection(settings)
    assert (first.action, first.message) == ("created", "created")
    ((method, path, body),) = server.writes()
    assert (method, path) == ("POST", "/v1/schema")
    assert body["class"] == "CoordinationContext"
    props = {p["name"]: p for p in body["properties"]}
    assert set(props) >= SEED
    assert set(props) == {name for name, *_ in PROPERTIES}
    assert props["timestamp"]["dataType"] == ["date"]
    assert props["content"]["dataType"] == ["text"]
    assert props["content"]["tokenization"] == "word"
    assert props["workflow_id"]["tokenization"] == "field"
    assert props["metadata"]["indexSearchable"] is False
    assert body["vectorConfig"]["default"]["vectorizer"] == {"none": {}}

    server.rest.clear()
    second = init_collection(settings)
    assert (second.action, second.message, second.added) == ("unchanged", "unchanged", [])
    assert server.writes() == []  # no create, no property added, no update
    assert {(m, p) for m, p, _ in server.rest} <= {
        ("GET", "/v1/meta"), ("GET", "/v1/schema/CoordinationContext")
    }  # fmt: skip


def test_init_collection_migrates_a_seed_made_collection(server: FakeWeaviate) -> None:
    settings = settings_for(server)
    init_collection(settings)
    schema = server.schema["CoordinationContext"]
    schema["properties"] = [p for p in schema["properties"] if p["name"] != "record_key"]
    server.rest.clear()

    result = init_collection(settings)
    assert result.message == "migrated: added record_key"
    ((method, path, body),) = server.writes()
    assert (method, path) == ("POST", "/v1/schema/CoordinationContext/properties")
    assert body["name"] == "record_key"
    assert body["dataType"] == ["text"]

    server.rest.clear()
    again = init_collection(settings)
    assert (again.message, again.warnings) == ("unchanged", [])
    assert server.writes() == []
    # a vectorizer cannot be migrated: said, not attempted
    other = init_collection(settings_for(server, weaviate_vectorizer="text2vec-ollama"))
    assert other.message == "unchanged"
    assert "vectorizes with none" in other.warnings[0]
    assert server.writes() == []


def test_server_side_vectorizer_is_configured(server: FakeWeaviate) -> None:
    settings = settings_for(
        server, weaviate_vectorizer="text2vec-ollama",
        weaviate_vectorizer_endpoint="http://ollama:11434",
        weaviate_vectorizer_model="nomic-embed-text",
    )  # fmt: skip
    init_collection(settings)
    body = server.writes()[0][2]
    module = body["vectorConfig"]["default"]["vectorizer"]["text2vec-ollama"]
    assert module["apiEndpoint"] == "http://ollama:11434"
    assert module["model"] == "nomic-embed-text"
    assert module["properties"] == ["content"]


def test_batch_uses_deterministic_uuids_and_surfaces_failed_objects(server: FakeWeaviate) -> None:
    from weaviate.util import generate_uuid5

    records = [rec("sql injection in app/db.py"), rec("shell=True"), rec("hard-coded password")]
    server.refuse[records[1].id] = "vector lengths don't match: 384 vs 768"
    store = open_context_store(settings_for(server))
    try:
        assert isinstance(store, WeaviateStore)
        result = store.batch_store(records)
    finally:
        store.close()
    assert result.stored == [records[0].id, records[2].id]
    (failed,) = result.failed
    assert (failed.index, failed.id) == (1, records[1].id)
    assert failed.reason == "vector lengths don't match: 384 vs 768"

    sent = [o for b in server.batches for o in b.objects]
    assert [o.uuid for o in sent] == [r.id for r in records]
    assert sent[0].uuid == generate_uuid5(records[0].stable_key)
    assert {o.collection for o in sent} == {"CoordinationContext"}
    props = server.objects[records[0].id]
    assert props["content"] == "sql injection in app/db.py"
    assert json.loads(props["metadata"]) == {"n": 1}
    assert props["record_key"] == records[0].stable_key
    assert datetime.fromisoformat(props["timestamp"]) == T0


def test_store_raises_when_refused_and_restoring_sends_the_same_uuid(
    server: FakeWeaviate,
) -> None:
    record = rec("same record")
    with WeaviateStore.from_settings(settings_for(server)) as store:
        assert store.store(record) == record.id
        assert store.store(record) == record.id
        server.refuse[record.id] = "disk full"
        with pytest.raises(StoreError, match="disk full"):
            store.store(record)
    assert [o.uuid for b in server.batches for o in b.objects] == [record.id] * 3
    assert len(server.objects) == 1


def test_search_is_bm25_on_content_with_property_filters(server: FakeWeaviate) -> None:
    with WeaviateStore.from_settings(settings_for(server)) as store:
        store.batch_store([rec("sql injection"), rec("sql other", workflow_id="wf-2")])
        hits = store.search("sql injection", k=5, filters={"workflow_id": "wf-1",
                                                           "context_type": "finding"})  # fmt: skip
    (request,) = server.searches
    assert request.collection == "CoordinationContext"
    assert request.limit == 5
    assert request.bm25_search.query == "sql injection"
    assert list(request.bm25_search.properties) == ["content"]
    assert not request.HasField("hybrid_search")
    conditions = {(f.target.property, f.value_text) for f in request.filters.filters}
    assert conditions == {("workflow_id", "wf-1"), ("context_type", "finding")}
    assert request.filters.operator == request.filters.OPERATOR_AND
    # the reply is read back into records, ids and scores
    (hit,) = hits
    assert hit.id == rec("sql injection").id
    assert hit.record == rec("sql injection").model_copy(update={"key": hit.record.key})
    assert hit.record.id == hit.id
    assert hit.score == 1.0


def test_search_is_hybrid_with_self_provided_vectors(server: FakeWeaviate) -> None:
    embedder = ConceptEmbedder()
    with WeaviateStore.from_settings(settings_for(server), embedder=embedder) as store:
        store.batch_store([rec("sql injection")])
        store.search("tainted sqli", k=3, filters={"task_id": "fix"})
    (obj,) = server.batches[0].objects
    sent = obj.vectors[0] if obj.vectors else obj
    values = struct.unpack(f"<{len(sent.vector_bytes) // 4}f", sent.vector_bytes)
    assert list(values) == embedder.embed(["sql injection"])[0]
    (request,) = server.searches
    assert request.hybrid_search.query == "tainted sqli"
    assert request.HasField("hybrid_search")
    assert (request.filters.target.property, request.filters.value_text) == ("task_id", "fix")


def test_retrieve_context_filters_the_workflow_and_sorts_newest_first(
    server: FakeWeaviate,
) -> None:
    with WeaviateStore.from_settings(settings_for(server)) as store:
        store.batch_store(
            [rec(f"event {i}", timestamp=T0 + timedelta(minutes=i)) for i in range(3)]
        )
        got = store.retrieve_context("wf-1", limit=2)
    (request,) = server.searches
    assert request.limit == 2
    assert (request.filters.target.property, request.filters.value_text) == ("workflow_id", "wf-1")
    (sort,) = request.sort_by
    assert (list(sort.path), sort.ascending) == (["timestamp"], False)
    assert len(got) == 2
    assert all(r.workflow_id == "wf-1" for r in got)


def test_connect_with_start_up_checks_and_api_key(
    server: FakeWeaviate, monkeypatch: pytest.MonkeyPatch
) -> None:
    import weaviate.connect.v4 as v4

    monkeypatch.setattr(v4, "PYPI_PACKAGE_URL", f"{server.url}/v1/pypi")  # no PyPI call
    settings = settings_for(server, weaviate_skip_init_checks=False, weaviate_api_key="s3cret")
    assert init_collection(settings).message == "created"
    assert ("GET", "/v1/pypi", None) in server.rest  # the checks ran (gRPC health too)
    assert server.authorization["/v1/meta"] == {"Bearer s3cret"}
    assert server.authorization["/v1/schema"] == {"Bearer s3cret"}


def test_unreachable_weaviate_is_a_store_error_without_the_key() -> None:
    settings = Settings(
        context_store="weaviate", weaviate_url=f"http://127.0.0.1:{free_port()}",
        weaviate_api_key="s3cret", weaviate_skip_init_checks=True, weaviate_timeout=2,
    )  # fmt: skip
    with pytest.raises(StoreError, match=r"Weaviate at http://127\.0\.0\.1") as info:
        open_context_store(settings)
    assert "s3cret" not in str(info.value)
    with pytest.raises(ConfigError, match="WEAVIATE_URL"):
        init_collection(Settings(context_store="weaviate"))


def test_connection_kind() -> None:
    assert connection_kind("https://abc.c0.europe-west3.gcp.weaviate.cloud") == "cloud"
    assert connection_kind("http://localhost:8080") == "local"
    assert connection_kind("http://127.0.0.1:8080") == "local"
    assert connection_kind("https://localhost:8443") == "custom"
    assert connection_kind("http://weaviate.internal:8080") == "custom"


def test_credentials_in_the_weaviate_url_and_a_bad_port_are_handled() -> None:
    port = free_port()
    url = f"http://user:url-pass-999@127.0.0.1:{port}"
    settings = Settings(context_store="weaviate", weaviate_url=url, weaviate_timeout=2)
    with pytest.raises(StoreError) as caught:
        init_collection(settings)
    assert "url-pass-999" not in str(caught.value)
    bad = Settings(context_store="weaviate", weaviate_url="http://127.0.0.1:99999")
    with pytest.raises(ConfigError, match="fix the port"):
        init_collection(bad)
