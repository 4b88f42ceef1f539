"""URLs as shown to people: never with the ``user:password@`` some services put in them.

The one credential redactor: :func:`without_userinfo` for a URL, :func:`redact_userinfo` for
text that may hold URLs (error messages, command output, audit rows)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit


def without_userinfo(url: str, *, mask: str = "***@") -> str:
    """``url`` with its ``user:password@`` replaced by ``mask`` (for messages, reports, audit
    rows and artifacts; ``mask=""`` drops it, as in a codebase's identity)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=mask + parts.netloc.rsplit("@", 1)[1]))


def without_credentials(url: str) -> str:
    """``https://user:token@host/x`` -> ``https://host/x``: secrets never reach logs or reports."""
    return without_userinfo(url, mask="")


_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*:/{1,2})[^/\s@]*@")


def redact_userinfo(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it replaced by ``***@``; also a URL
    a path was made of (``Path`` folds ``https://`` into ``https:/``), as in error messages."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}***@", text)
