"""Unused imports in public modules kept as explicit re-exports instead of deleted.

``from collections.abc import Sequence`` that nothing in the module uses may still be what
outside callers import from it. The builtin backend turns it into ``from collections.abc
import Sequence as Sequence`` (ruff, mypy and pyright read a redundant alias as an intended
re-export, so F401 no longer fires) rather than letting ``ruff --fix`` delete it. Names that are
not public (``_x``, names left out of a literal ``__all__``) and modules that are not public
(tests, ``_private.py``; see :mod:`.api`) are left to the usual fix.
"""

from __future__ import annotations

import ast
import re

from ai_conductor.implement.api import bindings, public_module, public_name

_NAME = re.compile(r"`([^`]+)` imported but unused")


def _public(source: str, name: str) -> bool:
    found = bindings(source)
    if found is None:
        return False
    _, exported = found
    return name in exported if exported is not None else public_name(name)


def reexport(path: str, source: str, lines: dict[int, set[str]]) -> str:
    """``source`` with the unused imports on ``lines`` (line -> qualified names ruff gave)
    aliased to themselves where the name is public; unchanged when nothing applies."""
    if not public_module(path):
        return source
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    edits: list[tuple[int, int, int, str]] = []  # line, start col, end col, text
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        module = node.module if isinstance(node, ast.ImportFrom) else None
        for alias in node.names:
            wanted = lines.get(alias.lineno, set()) | lines.get(node.lineno, set())
            qualified = f"{module}.{alias.name}" if module else alias.name
            if alias.asname or qualified not in wanted or "." in alias.name:
                continue  # already aliased, another import, or `import a.b` (binds `a`)
            if alias.lineno != alias.end_lineno or not _public(source, alias.name):
                continue
            edits.append((alias.lineno, alias.col_offset, alias.end_col_offset or 0,
                          f"{alias.name} as {alias.name}"))  # fmt: skip
    if not edits:
        return source
    text = source.splitlines(keepends=True)
    for line, start, end, new in sorted(edits, reverse=True):
        raw = text[line - 1].encode("utf-8")
        text[line - 1] = (raw[:start] + new.encode() + raw[end:]).decode("utf-8")
    return "".join(text)


def unused_names(message: str) -> str | None:
    """The qualified name in ruff's F401 message."""
    m = _NAME.search(message)
    return m[1] if m else None
