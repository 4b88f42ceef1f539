"""Security checks shared by the MCP server and the HTTP API.

- :func:`check_codebase_path` / :func:`confine_path` confine every path a request names to
  ``CONDUCTOR_ALLOWED_ROOTS`` (symlinks resolved first, so neither ``..`` nor a link can escape);
- :func:`require_token` / :func:`check_bind` / :func:`token_ok`: the bearer token, and the refusal
  to listen beyond loopback without one;
- :func:`redact`: what an error may say back to a client (no configured secrets, no URL
  credentials).
"""

from __future__ import annotations

import hmac
import ipaddress
import re
from pathlib import Path
from typing import Final

from pydantic import SecretStr

from ai_conductor._paths import expand_user
from ai_conductor._urls import redact_userinfo
from ai_conductor.errors import ConfigError, UsageError
from ai_conductor.settings import Settings, get_settings

LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
REDACTED: Final = "***"
_BEARER: Final = re.compile(r"(?i)\b(bearer|token|api[_-]?key|password|secret)([=: ]+)[^\s,;&\"']+")


def allowed_roots(settings: Settings | None = None) -> list[Path]:
    """The resolved allowed roots (default: the current working directory)."""
    settings = settings or get_settings()
    roots = settings.allowed_roots or [Path.cwd()]
    return [expand_user(root).resolve() for root in roots]


def check_codebase_path(path: str, settings: Settings | None = None) -> Path:
    """``path`` resolved (symlinks followed) and confined to the allowed roots.

    A relative path is taken relative to the first allowed root. Raises :class:`UsageError`
    naming the allowed roots when the path escapes them, and when it does not exist.
    """
    return confine_path(path, settings)


def confine_path(
    path: str,
    settings: Settings | None = None,
    *,
    base: Path | None = None,
    must_exist: bool = True,
    what: str = "path",
) -> Path:
    """``path`` resolved (symlinks followed) and confined to the allowed roots.

    A relative path is taken relative to ``base`` (default: the first allowed root). With
    ``must_exist=False`` a path that does not exist yet (a file to write) is accepted when it
    would be created inside the roots. Raises :class:`UsageError` naming ``what`` and the roots.
    """
    roots = allowed_roots(settings)
    text = str(path).strip()
    shown = redact_userinfo(text)  # a git URL given as a path: never echo its credentials
    if not text or "\x00" in text:
        raise UsageError(f"a {what} must be a non-empty string without NUL characters")
    candidate = expand_user(text)
    if not candidate.is_absolute():
        candidate = (base or roots[0]) / candidate
    try:
        resolved = candidate.resolve(strict=False)
    except (OSError, RuntimeError) as exc:  # symlink loops
        raise UsageError(f"cannot resolve {what} {shown!r}: {exc}") from None
    if not any(resolved == root or resolved.is_relative_to(root) for root in roots):
        listed = ", ".join(str(r) for r in roots)
        raise UsageError(
            f"{what} {shown!r} is outside the allowed roots ({listed}); set "
            "CONDUCTOR_ALLOWED_ROOTS to permit other directories"
        )
    if must_exist and not resolved.exists():
        where = redact_userinfo(str(resolved))
        raise UsageError(f"{what} {shown!r} does not exist (resolved to {where})")
    return resolved


def require_token(settings: Settings | None = None) -> str | None:
    """The configured API token (``CONDUCTOR_API_TOKEN``), or None."""
    settings = settings or get_settings()
    if settings.api_token is None:
        return None
    token = settings.api_token.get_secret_value().strip()
    return token or None


def is_loopback(host: str) -> bool:
    """True for ``localhost`` names and loopback IP addresses (``127.0.0.0/8``, ``::1``)."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None) -> None:
    """Refuse (:class:`ConfigError`) to listen on a non-loopback address without a token."""
    if token or is_loopback(host):
        return
    raise ConfigError(
        f"refusing to listen on {host!r} without an API token: set CONDUCTOR_API_TOKEN "
        "(clients send it as 'Authorization: Bearer TOKEN') or bind to 127.0.0.1"
    )


def token_ok(given: str | None, expected: str | None) -> bool:
    """Constant-time comparison of a presented token with the expected one (None: refused)."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8"))


def _secrets(settings: Settings) -> list[str]:
    values = []
    for name in type(settings).model_fields:
        value = getattr(settings, name, None)
        if isinstance(value, SecretStr):
            secret = value.get_secret_value()
            if len(secret) >= 4:
                values.append(secret)
    return sorted(values, key=len, reverse=True)


def redact(text: str, settings: Settings | None = None) -> str:
    """``text`` without configured secrets, URL credentials or ``token=...``-style values."""
    settings = settings or get_settings()
    for secret in _secrets(settings):
        text = text.replace(secret, REDACTED)
    text = redact_userinfo(text)  # user:password@ -> ***@
    return _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
