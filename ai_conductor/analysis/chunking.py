"""How a tool's files are cut into chunks, and which file a plugin's error message names.

Chunks are balanced by bytes (largest file first onto the lightest chunk), at most one per
worker, so each chunk pays a tool's start-up once and no chunk is left running alone at the end.
"""

from __future__ import annotations

import heapq
from pathlib import Path

MIN_CHUNK = 8
"""Fewer files than this per chunk is not worth another process."""


def chunks(files: list[str], sizes: dict[str, int], parts: int) -> list[list[str]]:
    """``files`` in at most ``parts`` chunks of about equal bytes (largest file first)."""
    parts = max(1, min(parts, len(files) // MIN_CHUNK or 1))
    heap: list[tuple[int, int]] = [(0, i) for i in range(parts)]
    out: list[list[str]] = [[] for _ in range(parts)]
    for path in sorted(files, key=lambda p: -sizes.get(p, 0)):
        load, i = heapq.heappop(heap)
        out[i].append(path)
        heapq.heappush(heap, (load + sizes.get(path, 0) + 1, i))
    return [sorted(c) for c in out if c]


def attribute(errors: list[str], chunk: list[str], root: Path) -> tuple[dict[str, str], list[str]]:
    """A plugin's error messages that name one file of ``chunk`` (as ``path`` or ``path:line``,
    relative or absolute): those files failed, with the message as the reason. The rest are
    general errors (a plugin that fills ``ToolResult.failures`` itself needs none of this)."""
    wanted = set(chunk)
    named: dict[str, str] = {}
    general: list[str] = []
    for message in errors:
        hits = {p for word in message.split() for p in _paths_in(word, root)} & wanted
        if len(hits) == 1:
            named.setdefault(hits.pop(), " ".join(message.split())[:300])
        else:
            general.append(message)
    return named, general


def _paths_in(word: str, root: Path) -> set[str]:
    word = word.strip("'\"()[]{},;:")
    found = set()
    for candidate in {word, word.split(":", 1)[0]}:  # path:line
        path = Path(candidate)
        if not path.is_absolute():
            found.add(path.as_posix())
        elif path.is_relative_to(root):
            found.add(path.relative_to(root).as_posix())
    return found
