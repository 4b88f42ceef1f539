"""A misbehaving OpenAI-compatible chat-completions server on loopback.

Each request draws its fate from a seeded generator, in arrival order: a good reply (an edit
that re-exports the unused imports of the file the prompt names), or a fault: a reply slower than
the client's timeout, 429 with ``Retry-After``, 500, or garbage (an HTML page with status 200,
or a completion whose text is not JSON). Every request and its fate are recorded.
"""

from __future__ import annotations

import json
import random
import re
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAULTS = ("timeout", "429", "500", "garbage-html", "garbage-text")


def completion(content: str, prompt: int = 100, completion: int = 20) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": content}}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                  "total_tokens": prompt + completion},
    }  # fmt: skip


def fix_for(body: dict[str, Any]) -> str:
    """The edit fixing the unused ``import os`` / ``import sys`` of the file the prompt is
    about the way the prompt asks for a public module: explicit re-exports, not deletions."""
    prompt = json.dumps(body.get("messages", []))
    match = re.search(r"pkg/m\d+\.py", prompt)
    path = match.group(0) if match else "pkg/m0.py"
    return json.dumps({"edits": [{"path": path, "search": "import os\nimport sys\n",
                                  "replace": "import os as os\nimport sys as sys\n"}]})  # fmt: skip


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client hung up on a slow reply: expected here


class FaultyLLM:
    """``fault_rate`` of the requests fail (kinds drawn from ``kinds``); ``delay`` slows every
    reply; ``hang`` is how long a "timeout" reply takes (longer than the client waits)."""

    def __init__(self, seed: int, fault_rate: float = 0.5, kinds: tuple[str, ...] = FAULTS,
                 delay: float = 0.0, hang: float = 3.0) -> None:  # fmt: skip
        self.rng = random.Random(seed)
        self.fault_rate, self.kinds, self.delay, self.hang = fault_rate, kinds, delay, hang
        self.fates: list[str] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> int:
        return len(self.fates)

    def count(self, fate: str) -> int:
        return sum(f == fate for f in self.fates)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _fate(self) -> str:
        with self._lock:
            fault = self.rng.random() < self.fault_rate
            fate = self.rng.choice(self.kinds) if fault else "ok"
            self.fates.append(fate)
            return fate

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        llm = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _send(self, status: int, data: bytes, headers: dict[str, str] | None = None,
                      kind: str = "application/json") -> None:  # fmt: skip
                self.send_response(status)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:
                size = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(size) or b"{}")
                fate = llm._fate()
                time.sleep(llm.delay)
                if fate == "timeout":
                    time.sleep(llm.hang)
                    fate = "ok"  # too late: the client gave up
                if fate == "ok":
                    self._send(200, json.dumps(completion(fix_for(body))).encode())
                elif fate in ("429", "500"):
                    error = {"error": {"type": "rate_limit_error" if fate == "429" else "api_error",
                                       "message": f"injected {fate}"}}  # fmt: skip
                    hint = {"retry-after": "0.1"} if fate == "429" else {}
                    self._send(int(fate), json.dumps(error).encode(), hint)
                elif fate == "garbage-html":
                    self._send(200, b"<html><body>502 Bad Gateway</body></html>",
                               kind="text/html")  # fmt: skip
                else:
                    text = "Sure! Here is the fix: remove the imports {not json"
                    self._send(200, json.dumps(completion(text)).encode())

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


assert issubclass(_Server, socketserver.ThreadingMixIn)
