"""Search/replace edits from a backend: parsed and applied as untrusted input, all-or-nothing."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from pydantic import ValidationError

from ai_conductor.errors import AgentError
from ai_conductor.implement.models import Edit

__all__ = [
    "EDITS_JSON_SCHEMA",
    "MAX_EDITS",
    "EditRejected",
    "apply_edits",
    "parse_edits",
    "safe_target",
]

MAX_EDITS = 50
"""Most edits one proposal may carry."""

EDITS_JSON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "edits": {
            "type": "array",
            "maxItems": MAX_EDITS,
            "items": {**Edit.model_json_schema(), "additionalProperties": False},
        }
    },
    "required": ["edits"],
    "additionalProperties": False,
}
"""JSON schema of the payload :func:`parse_edits` accepts (for LLM structured output)."""


class EditRejected(AgentError):
    """A backend's edits are malformed or unsafe; nothing was written. Retrying with this
    message as feedback may help."""

    retryable = True


def parse_edits(payload: Any) -> list[Edit]:
    """Validate untrusted JSON (text, ``{"edits": [...]}`` or a bare list) into edits."""
    if isinstance(payload, str | bytes):
        try:
            payload = json.loads(payload)
        except ValueError as exc:
            raise EditRejected(f"edits are not valid JSON: {exc}") from exc
    if isinstance(payload, dict):
        if "edits" not in payload:
            raise EditRejected('edits payload must be an object with key "edits"')
        payload = payload["edits"]
    if not isinstance(payload, list):
        raise EditRejected(f'"edits" must be a list, not {type(payload).__name__}')
    if len(payload) > MAX_EDITS:
        raise EditRejected(f"too many edits ({len(payload)}); at most {MAX_EDITS}")
    edits = []
    for i, item in enumerate(payload):
        if not isinstance(item, dict) or set(item) != {"path", "search", "replace"}:
            raise EditRejected(f"edits[{i}] must be an object with exactly path, search, replace")
        try:
            edits.append(Edit.model_validate(item, strict=True))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise EditRejected(f"edits[{i}] is invalid: {problems}") from exc
    return edits


def safe_target(root: Path, path: str) -> Path:
    """``root / path`` after refusing anything that could escape ``root`` or touch ``.git``."""
    pure = PurePosixPath(path)
    if pure.is_absolute():
        raise EditRejected(f"{path!r}: absolute paths are refused")
    if not path or "\0" in path or "\\" in path or PureWindowsPath(path).anchor:
        raise EditRejected(f"{path!r}: not a relative POSIX path")
    if ".." in pure.parts:
        raise EditRejected(f"{path!r}: '..' is refused")
    base = root.resolve()
    try:
        target = (base / pure).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise EditRejected(f"{path!r}: cannot be resolved: {exc}") from exc
    if not target.is_relative_to(base):
        raise EditRejected(f"{path!r}: resolves outside the workspace (symlink)")
    if any(p.lower() == ".git" for p in (*pure.parts, *target.relative_to(base).parts)):
        raise EditRejected(f"{path!r}: files inside .git are refused")
    if target == base or target.is_dir():
        raise EditRejected(f"{path!r}: is a directory")
    return target


def _read_text(target: Path, path: str) -> str:
    data = target.read_bytes()
    if b"\0" in data:
        raise EditRejected(f"{path}: binary file, refused")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EditRejected(f"{path}: not UTF-8 text, refused") from exc


def _replace_once(text: str, edit: Edit) -> str:
    first = text.find(edit.search)
    if first < 0:
        raise EditRejected(f"{edit.path}: search text not found; copy it exactly from the file")
    if text.find(edit.search, first + 1) >= 0:
        raise EditRejected(
            f"{edit.path}: search text occurs more than once; add context to make it unique"
        )
    return text[:first] + edit.replace + text[first + len(edit.search) :]


def apply_edits(root: Path, edits: Sequence[Edit]) -> list[str]:
    """Apply ``edits`` under ``root`` and return the touched POSIX paths, in order.

    Paths are returned as resolved inside ``root`` (through symlinks that stay in it).
    Every edit is checked first (paths, search text occurring exactly once, text files only;
    an empty ``search`` creates a file that must not exist); any problem raises
    :class:`EditRejected` and leaves the tree untouched.
    """
    base = root.resolve()
    new: dict[Path, str] = {}
    names: dict[Path, str] = {}
    for edit in edits:
        target = safe_target(root, edit.path)
        names.setdefault(target, target.relative_to(base).as_posix())
        if target in new:
            text = new[target]
        elif target.exists():
            text = _read_text(target, edit.path)
        elif edit.search == "":
            new[target] = edit.replace
            continue
        else:
            raise EditRejected(f"{edit.path}: no such file (use an empty search to create one)")
        if edit.search == "":
            raise EditRejected(f"{edit.path}: exists; an empty search only creates new files")
        new[target] = _replace_once(text, edit)
    _write_all(new)
    return list(names.values())


def _write_all(new: dict[Path, str]) -> None:
    """Write every file, or restore what was written before a failure and raise."""
    done: list[tuple[Path, bytes | None]] = []
    try:
        for target, text in new.items():
            old = target.read_bytes() if target.exists() else None
            target.parent.mkdir(parents=True, exist_ok=True)
            done.append((target, old))
            target.write_bytes(text.encode("utf-8"))
    except OSError as exc:
        for target, old in reversed(done):
            if old is None:
                target.unlink(missing_ok=True)
            else:
                target.write_bytes(old)
        raise EditRejected(f"could not write {target.name}: {exc}; nothing was changed") from exc
