"""A loopback HTTP server for forge stand-ins: routes, authentication, a record of requests.

The hosted platforms (GitHub, GitLab, Gitea/Forgejo) cannot be reached from the test machines;
their clients (githubkit, python-gitlab, pyforgejo) talk HTTP to this server instead, so the
clients' real request and response handling runs. A handler that raises (e.g. a response that
does not validate against the platform's published models) answers 500 and is kept in
``errors``: tests assert ``errors == []``.
"""

from __future__ import annotations

import json
import re
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    """One request the stand-in received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    params: dict[str, str] = field(default_factory=dict)
    reply_headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers a handler sets (e.g. GitHub's ``Link`` to the next page)."""


Handler = Callable[[Call], tuple[int, Any]]


class _Server(ThreadingHTTPServer):
    """Room for bursts of connections on a loaded machine (the default backlog is 5); an error
    outside a route's handler (which closes the connection without an answer) is kept in
    ``errors`` with its traceback instead of only being printed."""

    request_queue_size = 64
    daemon_threads = True
    errors: list[str]

    def handle_error(self, request: Any, client_address: Any) -> None:
        self.errors.append(f"connection from {client_address}: {traceback.format_exc()}")


class StandIn:
    """Routes ``(METHOD, regex)`` to handlers; ``authorized(headers)`` gates every request."""

    def __init__(self, authorized: Callable[[dict[str, str]], bool], prefix: str = "") -> None:
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.calls: list[Call] = []
        self.errors: list[str] = []
        self.prefix = prefix
        self.authorized = authorized
        self.lock = threading.RLock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._server.errors = self.errors
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def route(self, method: str, pattern: str) -> Callable[[Handler], Handler]:
        def add(fn: Handler) -> Handler:
            self.routes.append((method, re.compile(f"^{self.prefix}{pattern}$"), fn))
            return fn

        return add

    def start(self) -> StandIn:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def made(self, method: str, pattern: str) -> list[Call]:
        """The calls matching ``method`` and the path regex (prefix excluded)."""
        rx = re.compile(f"^{self.prefix}{pattern}$")
        return [c for c in self.calls if c.method == method and rx.match(c.path)]

    def _dispatch(self, call: Call) -> tuple[int, Any]:
        if not self.authorized(call.headers):
            return 401, {"message": "Bad credentials"}
        for method, rx, fn in self.routes:
            match = rx.match(call.path)
            if method == call.method and match:
                call.params = match.groupdict()
                with self.lock:
                    return fn(call)
        return 404, {"message": f"no route for {call.method} {call.path}"}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class H(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the platforms speak

            def log_message(self, *args: Any) -> None:
                pass

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                size = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(size) if size else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = raw.decode("utf-8", "replace")
                query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                headers = {k.lower(): v for k, v in self.headers.items()}
                call = Call(self.command, parts.path, query, headers, body)
                outer.calls.append(call)
                try:
                    status, data = outer._dispatch(call)
                except Exception:
                    outer.errors.append(f"{self.command} {parts.path}: {traceback.format_exc()}")
                    status, data = 500, {"message": "stand-in error (see errors)"}
                payload = b"" if data is None else json.dumps(data).encode()
                self.send_response(status)
                for key, value in call.reply_headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

        return H
