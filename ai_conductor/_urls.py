"""URLs as shown to people: never with the ``user:password@`` some services put in them."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit


def without_userinfo(url: str) -> str:
    """``url`` without ``user:password@`` (for messages, reports, audit rows and artifacts)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]))


_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*:/{1,2})[^/\s@'\"]*@")


def redact_userinfo(text: str) -> str:
    """``text`` with the ``user:password@`` of every URL in it replaced by ``***@``; also a URL
    a path was made of (``Path`` folds ``https://`` into ``https:/``), as in error messages."""
    return _USERINFO.sub(lambda m: f"{m['scheme']}***@", text)
