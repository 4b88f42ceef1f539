"""Markdown pieces that render the same on GitHub, GitLab and Gitea, whatever the text holds."""

from __future__ import annotations

import html
import re

MAX_BODY = 60_000
"""Characters of a pull-request body or review summary (GitHub refuses more than 65,536)."""


def text(value: str, limit: int = 300) -> str:
    """Plain text on one line: HTML escaped (a message holding ``<script>`` shows it), Markdown
    emphasis, links and table bars neutralised, long text cut with an ellipsis."""
    one = " ".join(str(value).split())
    if len(one) > limit:
        one = one[: limit - 1].rstrip() + "…"
    one = html.escape(one, quote=False)
    return re.sub(r"([\\`*_\[\]|#~])", r"\\\1", one)


def code(value: str, limit: int = 200) -> str:
    """An inline code span that holds any text (backticks included), on one line."""
    one = " ".join(str(value).split())[:limit]
    one = one.replace("|", "\u2223")  # a bar would end a table cell even inside code
    ticks = "`" * (max((len(m) for m in re.findall(r"`+", one)), default=0) + 1)
    pad = " " if one.startswith("`") or one.endswith("`") or not one else ""
    return f"{ticks}{pad}{one}{pad}{ticks}"


def details(summary: str, lines: list[str]) -> list[str]:
    """A collapsed section (blank lines around the body, or GitHub renders it raw)."""
    return ["<details>", f"<summary>{html.escape(summary)}</summary>", "", *lines, "",
            "</details>", ""]  # fmt: skip


def fit(render: object, limit: int = MAX_BODY) -> str:
    """``render(rows)`` with as many rows as fit in ``limit`` characters (halving), else cut."""
    rows: int | None = None
    while True:
        body: str = render(rows)  # type: ignore[operator]
        if len(body) <= limit:
            return body
        if rows == 0:
            return body[: limit - 80].rstrip() + "\n\n… (cut: too long for a pull request)\n"
        rows = 200 if rows is None else rows // 2
