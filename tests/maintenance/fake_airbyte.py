"""A stand-in for Airbyte's public API, served by ``http.server`` on loopback.

Airbyte cannot run here (its server and connectors are Docker images; there is no Docker engine
and no network), so the tests exercise the official ``airbyte-api`` SDK against the HTTP
boundary instead: this server answers the four endpoints conductor uses with the JSON shapes of
Airbyte's public API (``POST /applications/token``, ``POST /jobs``, ``GET /jobs/{id}``,
``DELETE /jobs/{id}``) and records every request, so the tests can check what the SDK really
sent. Real-Airbyte coverage is ``test_airbyte_live.py``, which runs when credentials are set.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

ROOT = "/api/public/v1"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class FakeAirbyte:
    """Scripted Airbyte: ``statuses`` are returned by successive job polls (the last repeats)."""

    statuses: list[str] = field(default_factory=lambda: ["running", "succeeded"])
    client_id: str = "conductor-app"
    client_secret: str = "s3cr3t-value"
    token: str = "issued-token-1"
    connections: tuple[str, ...] = ("conn-1",)
    job_id: int = 4242
    fail_polls: int = 0
    """Answer this many job polls with HTTP 503 first (a transient outage)."""
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def job(self, connection_id: str, status: str) -> dict[str, Any]:
        body: dict[str, Any] = {
            "jobId": self.job_id, "status": status, "jobType": "sync",
            "startTime": "2024-05-01T10:00:00Z", "connectionId": connection_id,
        }  # fmt: skip
        if status == "succeeded":
            body |= {"bytesSynced": 2048, "rowsSynced": 17, "duration": "PT1M2S"}
        return body

    def requests(self, method: str, path: str = "") -> list[Seen]:
        return [s for s in self.seen if s.method == method and s.path.startswith(ROOT + path)]


def _handler(fake: FakeAirbyte) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            fake.seen.append(Seen(self.command, self.path, dict(self.headers), body))
            path = self.path.removeprefix(ROOT)
            if self.command == "POST" and path == "/applications/token":
                form = {k: v[0] for k, v in parse_qs(body).items()}
                if (form.get("client_id"), form.get("client_secret")) != (
                    fake.client_id, fake.client_secret,
                ) or form.get("grant_type") != "client_credentials":  # fmt: skip
                    return self._reply(401, {"message": "invalid client credentials"})
                return self._reply(200, {"access_token": fake.token, "token_type": "Bearer",
                                         "expires_in": 180})  # fmt: skip
            if self.headers.get("Authorization") != f"Bearer {fake.token}":
                return self._reply(401, {"message": "Unauthorized"})
            job_path = path.startswith("/jobs/") and path[6:] == str(fake.job_id)
            if self.command == "POST" and path == "/jobs":
                connection = json.loads(body).get("connectionId", "")
                if connection not in fake.connections:
                    return self._reply(404, {"message": f"connection {connection} not found"})
                return self._reply(200, fake.job(connection, "pending"))
            if self.command == "GET" and job_path:
                if fake.fail_polls > 0:
                    fake.fail_polls -= 1
                    return self._reply(503, {"message": "temporarily unavailable"})
                status = fake.statuses.pop(0) if len(fake.statuses) > 1 else fake.statuses[0]
                return self._reply(200, fake.job(fake.connections[0], status))
            if self.command == "DELETE" and job_path:
                return self._reply(200, fake.job(fake.connections[0], "cancelled"))
            return self._reply(404, {"message": f"no route {self.command} {self.path}"})

        do_GET = do_POST = do_DELETE = _handle

    return Handler


@contextmanager
def serve(fake: FakeAirbyte) -> Iterator[FakeAirbyte]:
    """Run ``fake`` on a free loopback port; ``fake.url`` is its ``.../api/public/v1`` root."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}{ROOT}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
