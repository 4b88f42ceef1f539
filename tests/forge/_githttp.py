"""Smart HTTP for real git pushes: `git http-backend` (shipped with git) behind a loopback
server that demands HTTP Basic authentication and records every Authorization header.

Requests without the expected credentials get 401 with ``WWW-Authenticate``, as a forge's git
endpoint answers; authenticated ones are handed to ``git http-backend`` as CGI (so fetches and
pushes are git's own protocol, end to end).
"""

from __future__ import annotations

import base64
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tests.forge._standin import _Server

BACKEND = str(Path(subprocess.run(["git", "--exec-path"], capture_output=True, text=True,
                                  check=True).stdout.strip()) / "git-http-backend")  # fmt: skip


def _chunked(stream: Any) -> bytes:
    out = b""
    while True:
        size = int(stream.readline().strip(), 16)
        if size == 0:
            stream.readline()
            return out
        out += stream.read(size)
        stream.readline()


def _cgi(out: bytes) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body of a CGI program's output."""
    head, sep, payload = out.partition(b"\r\n\r\n")
    if not sep:
        head, _, payload = out.partition(b"\n\n")
    status, headers = 200, []
    for line in head.decode("latin-1").splitlines():
        key, _, value = line.partition(":")
        if key.lower() == "status":
            status = int(value.strip().split()[0])
        elif key:
            headers.append((key, value.strip()))
    return status, headers, payload


class GitHttpServer:
    """Serves the bare repositories under ``root`` at ``/<name>.git``."""

    def __init__(self, root: Path, username: str, password: str) -> None:
        self.root = root
        self.expected = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.seen: list[str | None] = []
        """The Authorization header of every request (None when absent)."""
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/{name}.git"

    def start(self) -> GitHttpServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    return _chunked(self.rfile)
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _serve(self) -> None:
                auth = self.headers.get("Authorization")
                outer.seen.append(auth)
                body = self._body()
                if auth != outer.expected:
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="git"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                parts = urlsplit(self.path)
                env = {"PATH": os.environ["PATH"], "GIT_PROJECT_ROOT": str(outer.root),
                       "GIT_HTTP_EXPORT_ALL": "1", "PATH_INFO": parts.path,
                       "QUERY_STRING": parts.query, "REQUEST_METHOD": self.command,
                       "CONTENT_TYPE": self.headers.get("Content-Type", ""),
                       "CONTENT_LENGTH": str(len(body)), "REMOTE_USER": "pusher",
                       "REMOTE_ADDR": "127.0.0.1",
                       "HTTP_GIT_PROTOCOL": self.headers.get("Git-Protocol", "")}  # fmt: skip
                if self.headers.get("Content-Encoding"):
                    env["HTTP_CONTENT_ENCODING"] = self.headers["Content-Encoding"]
                out = subprocess.run([BACKEND], input=body, env=env, capture_output=True,
                                     check=False).stdout  # fmt: skip
                status, headers, payload = _cgi(out)
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

        return H
