"""Warnings about YAML that parses but almost surely does not say what its author meant.

In a flow mapping (``{...}``) a comma ends a value, so ``{message: compiled, tested and
measured}`` is the mapping ``{"message": "compiled", "tested and measured": null}``: the text
after the first comma became keys without values. Nothing is wrong for the parser or the spec
model, so this is a warning that names the line and how to fix it (quote the text).
"""

from __future__ import annotations

from typing import Final

import yaml

from ai_conductor.errors import SpecProblem

MAX_SHOWN: Final = 100
"""Longest text quoted back in a hint; longer texts get a generic hint."""


def _has_value(key: yaml.Node, value: yaml.Node) -> bool:
    """False for a key written without ':' at all (``{a, b}``), True for ``{a: }`` too."""
    buffer = key.end_mark.buffer
    if buffer is None or not isinstance(value, yaml.ScalarNode) or value.value != "":
        return True
    return ":" in buffer[key.end_mark.index : value.start_mark.index]


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def valueless_keys(node: yaml.MappingNode, path: str) -> list[SpecProblem]:
    """One warning per run of keys without values in the flow mapping ``node`` at ``path``."""
    if not node.flow_style:
        return []
    problems: list[SpecProblem] = []
    entries = node.value
    i = 0
    while i < len(entries):
        if _has_value(*entries[i]):
            i += 1
            continue
        end = i
        while end + 1 < len(entries) and not _has_value(*entries[end + 1]):
            end += 1
        problems.append(_problem(entries, i, end, path))
        i = end + 1
    return problems


def _problem(
    entries: list[tuple[yaml.Node, yaml.Node]], first: int, last: int, path: str
) -> SpecProblem:
    names = ", ".join(repr(str(k.value)) for k, _ in entries[first : last + 1])
    end_key = entries[last][0]
    owner = entries[first - 1] if first > 0 else None
    if owner is None:
        key = entries[first][0]
        where = f"{path}.{key.value}" if path else str(key.value)
        return SpecProblem(
            f"key(s) {names} have no value: in a {{...}} mapping a comma separates keys, "
            "so they were read as keys with null values",
            where, key.start_mark.line + 1, key.start_mark.column + 1,
            hint="write 'key: value' pairs, or quote text that contains commas",
        )  # fmt: skip
    key, value = owner
    buffer = key.end_mark.buffer or ""
    text = buffer[value.start_mark.index : end_key.end_mark.index]
    fix = (
        f"quote it: {key.value}: {_quoted(text)}"
        if 0 < len(text) <= MAX_SHOWN and "\n" not in text
        else f"quote the whole text of {str(key.value)!r} in double quotes"
    )
    return SpecProblem(
        f"the value of {str(key.value)!r} stops at the first comma: the rest became key(s) "
        f"{names} with null values (in a {{...}} mapping a comma separates keys)",
        f"{path}.{key.value}" if path else str(key.value),
        key.start_mark.line + 1, key.start_mark.column + 1, hint=fix,
    )  # fmt: skip
