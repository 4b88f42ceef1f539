"""ASGI middleware in front of the whole HTTP app (the API, ``/docs`` and ``/mcp`` alike).

- Bearer token: with ``CONDUCTOR_API_TOKEN`` set, every path but ``/healthz`` needs
  ``Authorization: Bearer TOKEN`` (401 with ``WWW-Authenticate`` otherwise). Without a token the
  server only binds to loopback (``check_bind``), so ``/docs`` is open only there.
- Body size: a declared ``Content-Length`` over the limit gets 413 before the app runs; a
  chunked body is counted as it is read and cut off with 413 at the limit.
"""

from __future__ import annotations

import json
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_conductor.server.security import token_ok

__all__ = ["DEFAULT_MAX_BODY", "OPEN_PATHS", "GuardMiddleware", "json_error"]
DEFAULT_MAX_BODY: Final = 1 << 20
OPEN_PATHS: Final = frozenset({"/healthz"})


async def json_error(
    send: Send, status: int, error: str, detail: str, headers: dict[str, str] | None = None
) -> None:
    """Send a complete ``{error, detail}`` JSON response."""
    body = json.dumps({"error": error, "detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def _bearer(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    if value is None:
        return None
    scheme, _, credentials = value.partition(" ")
    return credentials.strip() if scheme.lower() == "bearer" else None


class GuardMiddleware:
    """Authentication and request-size limit for every HTTP request."""

    def __init__(self, app: ASGIApp, *, token: str | None, max_body: int = DEFAULT_MAX_BODY):
        self.app = app
        self.token = token
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self._authorized(scope):
            await json_error(
                send,
                401,
                "unauthorized",
                "send 'Authorization: Bearer TOKEN' with the server's CONDUCTOR_API_TOKEN",
                {"WWW-Authenticate": 'Bearer realm="conductor"'},
            )
            return
        declared = _header(scope, b"content-length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body:
            await self._too_large(send)
            return
        await self._limited(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        if self.token is None or scope["path"] in OPEN_PATHS:
            return True
        return token_ok(_bearer(scope), self.token)

    async def _too_large(self, send: Send) -> None:
        await json_error(
            send, 413, "payload_too_large", f"request bodies are limited to {self.max_body} bytes"
        )

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the body as the app reads it; past the limit, answer 413 at once, tell the
        app the client went away, and drop whatever the app still sends."""
        seen = 0
        started = refused = False

        async def counting_receive() -> Message:
            nonlocal seen, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    refused = True
                    if not started:
                        await self._too_large(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        await self.app(scope, counting_receive, guarded_send)
