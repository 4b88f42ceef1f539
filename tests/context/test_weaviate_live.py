"""The weaviate store against a real server: runs only when WEAVIATE_URL is set.

Uses a throw-away collection (deleted afterwards), so it never touches CoordinationContext.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from ai_conductor.context import ContextRecord, init_collection
from ai_conductor.context.weaviate_schema import connect
from ai_conductor.context.weaviate_store import WeaviateStore
from ai_conductor.settings import Settings

pytest.importorskip("weaviate", reason="weaviate-client is not installed (extra: weaviate)")
pytestmark = pytest.mark.skipif(
    not os.environ.get("WEAVIATE_URL"),
    reason="WEAVIATE_URL is not set: no real Weaviate server to test against",
)


@pytest.fixture
def settings() -> Iterator[Settings]:
    name = f"ConductorTest{uuid.uuid4().hex[:10]}"
    settings = Settings(context_store="weaviate", weaviate_collection=name)
    yield settings
    client = connect(settings)
    try:
        client.collections.delete(name)
    finally:
        client.close()


def test_init_store_search_retrieve_on_a_real_server(settings: Settings) -> None:
    assert init_collection(settings).message == "created"
    assert init_collection(settings).message == "unchanged"
    records = [
        ContextRecord(workflow_id="wf", task_id="t", context_type="finding",
                      content="possible SQL injection in app/db.py"),
        ContextRecord(workflow_id="wf", task_id="t", context_type="change_kept",
                      content="subprocess shell=True replaced by an argv list"),
        ContextRecord(workflow_id="other", context_type="finding", content="SQL injection too"),
    ]  # fmt: skip
    with WeaviateStore.from_settings(settings) as store:
        assert store.batch_store(records).ok
        assert store.batch_store(records).ok  # same uuids: replaced, not duplicated
        hits = store.search("SQL injection", k=5, filters={"workflow_id": "wf"})
        assert [h.id for h in hits] == [records[0].id]
        newest = store.retrieve_context("wf", limit=5)
        assert {r.content for r in newest} == {records[0].content, records[1].content}
        assert len(store.search("SQL injection", k=10)) == 2
