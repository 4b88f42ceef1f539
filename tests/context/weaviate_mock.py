"""A Weaviate stand-in that speaks what the v4 client calls, the way the client's own mock_tests do.

REST (stdlib ``http.server``): ``/v1/.well-known/*``, ``/v1/meta``, ``/v1/nodes``,
``/v1/schema...``. gRPC (an in-process ``WeaviateServicer``): ``BatchObjects`` and ``Search``,
plus the health service the client pings on connect. Every request is recorded, so tests
assert at the SDK boundary: what our code made the client send.
"""

from __future__ import annotations

import json
import socket
import threading
from concurrent import futures
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from uuid import UUID

import grpc
from google.protobuf.json_format import MessageToDict
from grpc_health.v1 import health_pb2, health_pb2_grpc
from weaviate.proto.v1 import (
    batch_pb2,
    properties_pb2,
    search_get_pb2,
    weaviate_pb2_grpc,
)

CLIENT_VERSION = "4.23.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class FakeWeaviate:
    """State and request log of the fake server."""

    http_port: int = 0
    grpc_port: int = 0
    schema: dict[str, dict[str, Any]] = field(default_factory=dict)
    rest: list[tuple[str, str, Any]] = field(default_factory=list)
    batches: list[batch_pb2.BatchObjectsRequest] = field(default_factory=list)
    searches: list[search_get_pb2.SearchRequest] = field(default_factory=list)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorization: dict[str, set[str | None]] = field(default_factory=dict)
    """The Authorization headers seen, by request path."""
    refuse: dict[str, str] = field(default_factory=dict)
    """uuid -> error message the batch reply gives for that object."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def writes(self) -> list[tuple[str, str, Any]]:
        """REST requests that would change the schema."""
        return [r for r in self.rest if r[0] in ("POST", "PUT", "PATCH", "DELETE")]

    # -- REST ------------------------------------------------------------------------------

    def handle(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        with self.lock:
            self.rest.append((method, path, body))
        parts = path.split("?")[0].rstrip("/").split("/")[2:]  # after /v1
        route = (method, *parts[:1])
        if route == ("GET", ".well-known"):
            return (200, {}) if parts[1:] == ["ready"] else (404, {})
        if route == ("GET", "meta"):
            return 200, {"version": "1.32.0", "modules": {}}
        if route == ("GET", "nodes"):
            return 200, {"nodes": [{"name": "node1", "status": "HEALTHY", "gitHash": "abc"}]}
        if route == ("GET", "pypi"):
            return 200, {"info": {"version": CLIENT_VERSION}}
        if parts[:1] == ["schema"]:
            return self._schema(method, parts[1:], body)
        return 404, {"error": [{"message": f"no route {method} {path}"}]}

    def _schema(self, method: str, rest: list[str], body: Any) -> tuple[int, Any]:
        if method == "POST" and not rest:
            for prop in body.get("properties", []):
                _server_defaults(prop)
            for vector in body.get("vectorConfig", {}).values():
                vector.setdefault("vectorIndexType", "hnsw")
                index = vector.setdefault("vectorIndexConfig", {})
                for key, value in _HNSW_DEFAULTS.items():
                    index.setdefault(key, value)
            self.schema[body["class"]] = body
            return 200, body
        if not rest or rest[0] not in self.schema:
            return 404, {"error": [{"message": "class not found"}]}
        cls = self.schema[rest[0]]
        if method == "GET" and len(rest) == 1:
            return 200, cls
        if method == "POST" and rest[1:] == ["properties"]:
            cls.setdefault("properties", []).append(_server_defaults(body))
            return 200, body
        return 404, {"error": [{"message": "unsupported"}]}

    # -- gRPC ------------------------------------------------------------------------------

    def batch(self, request: batch_pb2.BatchObjectsRequest) -> batch_pb2.BatchObjectsReply:
        errors = []
        with self.lock:
            self.batches.append(request)
            for index, obj in enumerate(request.objects):
                if obj.uuid in self.refuse:
                    errors.append(
                        batch_pb2.BatchObjectsReply.BatchError(
                            index=index, error=self.refuse[obj.uuid]
                        )
                    )
                    continue
                self.objects[obj.uuid] = MessageToDict(obj.properties.non_ref_properties)
        return batch_pb2.BatchObjectsReply(took=0.001, errors=errors)

    def search(self, request: search_get_pb2.SearchRequest) -> search_get_pb2.SearchReply:
        with self.lock:
            self.searches.append(request)
            wanted = _equal_filters(request.filters)
            found = [
                (uuid, props)
                for uuid, props in self.objects.items()
                if all(props.get(k) == v for k, v in wanted.items())
            ]
        limit = request.limit or len(found)
        results = [
            search_get_pb2.SearchResult(
                properties=search_get_pb2.PropertiesResult(
                    non_ref_props=properties_pb2.Properties(
                        fields={k: _value(k, v) for k, v in props.items()}
                    )
                ),
                metadata=search_get_pb2.MetadataResult(
                    id=uuid,
                    id_as_bytes=UUID(uuid).bytes,
                    score=1.0 / (rank + 1),
                    score_present=True,
                ),
            )
            for rank, (uuid, props) in enumerate(found[:limit])
        ]
        return search_get_pb2.SearchReply(took=0.001, results=results)


_HNSW_DEFAULTS: dict[str, Any] = {
    "cleanupIntervalSeconds": 300, "distance": "cosine", "dynamicEfMin": 100,
    "dynamicEfMax": 500, "dynamicEfFactor": 8, "ef": -1, "efConstruction": 128,
    "flatSearchCutoff": 40000, "maxConnections": 32, "skip": False,
    "vectorCacheMaxObjects": 1000000000000,
}  # fmt: skip


def _server_defaults(prop: dict[str, Any]) -> dict[str, Any]:
    """Fill in what a real server adds to a property it stores."""
    text = prop["dataType"] == ["text"]
    prop.setdefault("indexFilterable", True)
    prop.setdefault("indexSearchable", text)
    if text:
        prop.setdefault("tokenization", "word")
    return prop


def _value(name: str, value: Any) -> properties_pb2.Value:
    if name == "timestamp":
        return properties_pb2.Value(date_value=value)
    return properties_pb2.Value(text_value=str(value))


def _equal_filters(filters: Any) -> dict[str, str]:
    """{property: value} of a filter that is one Equal or an AND of Equals."""
    if not filters.ListFields():
        return {}
    if filters.filters:
        out: dict[str, str] = {}
        for sub in filters.filters:
            out.update(_equal_filters(sub))
        return out
    return {filters.target.property: filters.value_text}


class _Servicer(weaviate_pb2_grpc.WeaviateServicer):
    def __init__(self, fake: FakeWeaviate) -> None:
        self.fake = fake

    def BatchObjects(self, request: Any, context: Any) -> Any:
        return self.fake.batch(request)

    def Search(self, request: Any, context: Any) -> Any:
        return self.fake.search(request)


class _Health(health_pb2_grpc.HealthServicer):
    def Check(self, request: Any, context: Any) -> Any:
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


def _handler(fake: FakeWeaviate) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(size) if size else b""
            seen = fake.authorization.setdefault(self.path, set())
            seen.add(self.headers.get("Authorization"))
            status, reply = fake.handle(self.command, self.path, json.loads(raw) if raw else None)
            data = json.dumps(reply).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class Running:
    """Start the fake's REST and gRPC servers; stop them on ``close()``."""

    def __init__(self) -> None:
        self.fake = FakeWeaviate(http_port=free_port(), grpc_port=free_port())
        self.http = ThreadingHTTPServer(("127.0.0.1", self.fake.http_port), _handler(self.fake))
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)
        self.thread.start()
        self.grpc = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
        weaviate_pb2_grpc.add_WeaviateServicer_to_server(_Servicer(self.fake), self.grpc)
        health_pb2_grpc.add_HealthServicer_to_server(_Health(), self.grpc)
        self.grpc.add_insecure_port(f"127.0.0.1:{self.fake.grpc_port}")
        self.grpc.start()

    def close(self) -> None:
        self.grpc.stop(0)
        self.http.shutdown()
        self.http.server_close()
