"""ASGI middleware in front of the whole HTTP app (the API, ``/docs`` and ``/mcp`` alike).

- Bearer token: with ``CONDUCTOR_API_TOKEN`` set, every path but ``/healthz`` needs
  ``Authorization: Bearer TOKEN`` (401 with ``WWW-Authenticate`` otherwise). Without a token the
  server only binds to loopback (``check_bind``), so ``/docs`` is open only there.
- Body size: a declared ``Content-Length`` over the limit gets 413 before the app runs; a
  chunked body is counted as it is read and cut off with 413 at the limit.
- Host and Origin (DNS rebinding): with ``allowed_hosts`` (see :func:`allowed_host_names`) a
  request whose ``Host`` names another host gets 421, and one whose ``Origin`` is another site
  gets 403, on every path. A web page of a rebound name (``attacker.example`` resolving to
  127.0.0.1) thus cannot drive a token-less loopback server from the browser.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Final
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_conductor.server.security import is_loopback, token_ok

__all__ = [
    "DEFAULT_MAX_BODY",
    "LOOPBACK_HOSTS",
    "OPEN_PATHS",
    "GuardMiddleware",
    "allowed_host_names",
    "host_name",
    "json_error",
]
DEFAULT_MAX_BODY: Final = 1 << 20
OPEN_PATHS: Final = frozenset({"/healthz"})
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})
_UNSPECIFIED: Final = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not a bind


def host_name(authority: str) -> str | None:
    """The host of a ``Host`` value or an origin URL: lowercase, without port, brackets or a
    trailing dot; None when malformed (or the ``null`` origin)."""
    text = authority.strip()
    try:
        parts = urlsplit(text if "://" in text else f"//{text}")
        name, _ = parts.hostname, parts.port  # a bad port raises ValueError
    except ValueError:
        return None
    return name.rstrip(".") if name else None


def allowed_host_names(
    bind: str, token: str | None, extra: Iterable[str] = ()
) -> frozenset[str] | None:
    """The host names requests may address, or None for any.

    Checked when the server runs without a token or on a loopback address (where a rebound
    name is the attack), or when ``extra`` names are configured: the loopback names, the bound
    address and ``extra``. With a token on a public address any name is accepted: the token
    is what a rebinding page lacks, and clients (proxies, DNS names) vary.
    """
    names = {n for n in (host_name(h) for h in extra) if n}
    if token and not is_loopback(bind) and not names:
        return None
    bound = host_name(f"[{bind}]" if ":" in bind and not bind.startswith("[") else bind)
    if bound and bound not in _UNSPECIFIED:
        names.add(bound)
    return frozenset(LOOPBACK_HOSTS | names)


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
    """Host/Origin check, authentication and request-size limit for every HTTP request."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        token: str | None,
        max_body: int = DEFAULT_MAX_BODY,
        allowed_hosts: frozenset[str] | None = None,
    ):
        self.app = app
        self.token = token
        self.max_body = max_body
        self.allowed_hosts = allowed_hosts
        """Host names requests may address (None: any); see :func:`allowed_host_names`."""

    def _known(self, scope: Scope, name: str | None) -> bool:
        if self.allowed_hosts is None:
            return True
        server = scope.get("server")
        local = str(server[0]).lower() if server else None  # the address that accepted it
        return name is not None and (name in self.allowed_hosts or name == local)

    async def _misdirected(self, scope: Scope, send: Send) -> bool:
        """Answer (and return True) a request for another host or from another site."""
        host = _header(scope, b"host")
        if not self._known(scope, host_name(host) if host is not None else None):
            await json_error(
                send, 421, "misdirected_request",
                "this server does not answer for the host named in the Host header; use "
                "http://127.0.0.1:PORT (or the address it listens on)",
            )  # fmt: skip
            return True
        origin = _header(scope, b"origin")
        if origin is not None and not self._known(scope, host_name(origin)):
            await json_error(
                send, 403, "forbidden", "cross-site requests are refused (the Origin header "
                "names another site)",
            )  # fmt: skip
            return True
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if await self._misdirected(scope, send):
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
