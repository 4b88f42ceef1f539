"""The ``weaviate`` context store: the ``CoordinationContext`` collection, via the v4 client.

Object UUIDs are ``generate_uuid5(record key)`` (= :attr:`ContextRecord.id`), so re-storing
replaces. Writes go through the client's batch (gRPC) and report ``batch.failed_objects``.
Search is BM25 on ``content``, or hybrid when vectors exist: a server-side vectorizer module,
or self-provided vectors from the configured embedder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ai_conductor._urls import without_userinfo
from ai_conductor.context.models import (
    BatchResult,
    ContextRecord,
    FailedRecord,
    Hit,
    SearchFilters,
)
from ai_conductor.context.weaviate_schema import (
    connect,
    ensure_collection,
    guard,
    resolve_settings,
)
from ai_conductor.errors import StoreError, UsageError
from ai_conductor.protocols import Embedder
from ai_conductor.settings import Settings

if TYPE_CHECKING:
    from weaviate import WeaviateClient
    from weaviate.collections import Collection
    from weaviate.collections.classes.filters import _Filters


class WeaviateStore:
    """Context records in a Weaviate collection (the client is owned: ``close()`` closes it)."""

    def __init__(
        self,
        client: WeaviateClient,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        batch_size: int = 100,
    ) -> None:
        settings = resolve_settings(settings)  # no-op when from_settings() resolved it
        self._client, self.batch_size = client, batch_size
        self.collection_name = settings.weaviate_collection
        self.url = without_userinfo(settings.weaviate_url or "?")  # shown in messages only
        self.location = f"weaviate:{self.url}/{self.collection_name}"
        self.server_vectors = settings.weaviate_vectorizer != "none"
        self.embedder = None if self.server_vectors else embedder
        self.init = ensure_collection(client, settings)

    @classmethod
    def from_settings(
        cls, settings: Settings, *, embedder: Embedder | None = None
    ) -> WeaviateStore:
        """Connect (to the ``WeaviateConnection`` block ``settings.weaviate_block`` names, if
        any), make sure the collection is complete, and return the store."""
        settings = resolve_settings(settings)
        client = connect(settings)
        try:
            return cls(client, settings, embedder=embedder)
        except BaseException:
            client.close()
            raise

    def __enter__(self) -> WeaviateStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def _collection(self) -> Collection[Any, Any]:
        return self._client.collections.use(self.collection_name)

    def store(self, record: ContextRecord) -> str:
        result = self.batch_store([record])
        if result.failed:
            raise StoreError(f"{self.location}: {result.failed[0].reason}")
        return record.id

    def batch_store(self, records: Sequence[ContextRecord]) -> BatchResult:
        if not records:
            return BatchResult()
        vectors: list[list[float] | None] = [None] * len(records)
        if self.embedder is not None:
            try:
                vectors = list(self.embedder.embed([r.content for r in records]))
            except StoreError as exc:
                reason = f"embedding failed: {exc}"
                return BatchResult(
                    failed=[FailedRecord(index=i, id=r.id, reason=reason)
                            for i, r in enumerate(records)]
                )  # fmt: skip
        collection = self._collection()
        failed = []
        with guard(f"storing {len(records)} records", self.url):
            for start in range(0, len(records), self.batch_size):
                chunk = range(start, min(start + self.batch_size, len(records)))
                # a full batch is sent at once; a partial one would wait a second for more
                with collection.batch.fixed_size(batch_size=len(chunk)) as batch:
                    for i in chunk:
                        batch.add_object(
                            properties=_properties(records[i]), uuid=records[i].id,
                            vector=vectors[i],
                        )  # fmt: skip
                failed.extend(collection.batch.failed_objects)
        index = {r.id: i for i, r in enumerate(records)}
        bad = [
            FailedRecord(index=index.get(str(f.object_.uuid), -1), id=str(f.object_.uuid),
                         reason=f.message)
            for f in failed
        ]  # fmt: skip
        refused = {f.id for f in bad}
        return BatchResult(stored=[r.id for r in records if r.id not in refused], failed=bad)

    def retrieve_context(self, workflow_id: str, limit: int = 20) -> list[ContextRecord]:
        from weaviate.classes.query import Filter, Sort

        _check(limit, "limit")
        with guard("retrieving context", self.url):
            reply = self._collection().query.fetch_objects(
                filters=Filter.by_property("workflow_id").equal(workflow_id),
                limit=limit,
                sort=Sort.by_property("timestamp", ascending=False),
            )
        return [_record(o.properties) for o in reply.objects]

    def search(
        self, query: str, k: int = 10, filters: SearchFilters | Mapping[str, Any] | None = None
    ) -> list[Hit]:
        from weaviate.classes.query import MetadataQuery

        _check(k, "k")
        where = _filters(SearchFilters.of(filters))
        if not query.strip():
            return []
        meta = MetadataQuery(score=True)
        queries = self._collection().query
        with guard("searching", self.url):
            if self.server_vectors or self.embedder is not None:
                vector = self.embedder.embed([query])[0] if self.embedder else None
                reply = queries.hybrid(
                    query, vector=vector, limit=k, filters=where, return_metadata=meta
                )
            else:
                reply = queries.bm25(
                    query, query_properties=["content"], limit=k, filters=where,
                    return_metadata=meta,
                )  # fmt: skip
        return [
            Hit(id=str(o.uuid), score=o.metadata.score or 0.0, record=_record(o.properties))
            for o in reply.objects
        ]


def _check(value: int, name: str) -> None:
    if value < 1:
        raise UsageError(f"{name} must be at least 1, got {value}")


def _filters(filters: SearchFilters) -> _Filters | None:
    from weaviate.classes.query import Filter

    parts = [Filter.by_property(name).equal(value) for name, value in filters.items()]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else Filter.all_of(parts)


def _properties(record: ContextRecord) -> dict[str, Any]:
    props: dict[str, Any] = {
        "workflow_id": record.workflow_id,
        "context_type": record.context_type,
        "content": record.content,
        "metadata": json.dumps(record.metadata, sort_keys=True, default=str),
        "timestamp": record.timestamp,
        "record_key": record.stable_key,
    }
    if record.task_id is not None:
        props["task_id"] = record.task_id
    return props


def _record(props: Mapping[str, Any]) -> ContextRecord:
    stamp = props.get("timestamp")
    if isinstance(stamp, str):
        stamp = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    raw = props.get("metadata")
    return ContextRecord(
        workflow_id=str(props.get("workflow_id") or "?"),
        task_id=props.get("task_id") or None,
        context_type=str(props.get("context_type") or "unknown"),
        content=str(props.get("content") or " "),
        metadata=json.loads(raw) if isinstance(raw, str) and raw else {},
        timestamp=stamp if isinstance(stamp, datetime) else datetime.now(UTC),
        key=props.get("record_key") or None,
    )
