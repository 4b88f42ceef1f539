"""A scripted HTTP server speaking the OpenAI chat-completions and Anthropic messages wire formats.

Hosted model APIs are unreachable from the test machines, and a model's replies cannot be
scripted; the HTTP wire format is the contract the official SDKs implement, so a real server on
loopback answering in that format exercises the SDKs, our retries and our parsing for real.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted HTTP response."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Request:
    """What the server received."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


def openai_ok(
    content: str | None, *, finish: str = "stop", prompt: int = 100, completion: int = 20
) -> Reply:
    """A chat completion whose single choice says ``content``."""
    return Reply(200, {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": finish,
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
    })  # fmt: skip


def anthropic_ok(
    text: str, *, stop: str = "end_turn", prompt: int = 100, completion: int = 20
) -> Reply:
    """A message whose single text block says ``text``."""
    return Reply(200, {
        "id": "msg_1", "type": "message", "role": "assistant", "model": "m",
        "content": [{"type": "text", "text": text}], "stop_reason": stop,
        "stop_sequence": None, "usage": {"input_tokens": prompt, "output_tokens": completion},
    })  # fmt: skip


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Reply:
    """An error in both services' shapes (OpenAI reads ``error.message``, Anthropic too)."""
    kind = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}
    body = {"type": "error", "error": {"type": kind.get(status, "api_error"), "message": message}}
    return Reply(status, body, headers or {})


class WireServer:
    """``ThreadingHTTPServer`` on 127.0.0.1 answering POSTs from :attr:`script`, in order;
    past its end it answers ``default`` (a 500 unless set). Every request is recorded."""

    def __init__(self) -> None:
        self.script: list[Reply] = []
        self.default = error(500, "unscripted request")
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> WireServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            return self.script.pop(0) if self.script else self.default

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        wire = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = wire._next(Request(self.path, headers, body))
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

        return Handler
