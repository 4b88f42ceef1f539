"""Bringing the conductor's inline comments up to date instead of posting them again.

Each comment the conductor writes ends with a hidden marker holding its key (a finding's
fingerprint). On a re-run, earlier comments are matched by key: the same place and text are
kept, the same place with new text is edited, a key no longer wanted (or moved) is deleted,
and wanted keys without a comment are created.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ai_conductor.forge.models import InlineComment, comment_key, with_marker


@dataclass(frozen=True)
class Existing:
    """An inline comment already on the pull request."""

    id: int | str
    path: str
    line: int | None
    body: str

    @property
    def key(self) -> str | None:
        return comment_key(self.body)


@dataclass
class Plan:
    keep: list[Existing] = field(default_factory=list)
    update: list[tuple[Existing, InlineComment]] = field(default_factory=list)
    delete: list[Existing] = field(default_factory=list)
    create: list[InlineComment] = field(default_factory=list)


def body(comment: InlineComment) -> str:
    """The text posted for ``comment``: its body plus the hidden key marker."""
    return with_marker(comment.body, comment.key)


def plan(existing: list[Existing], wanted: list[InlineComment]) -> Plan:
    """What to do with ``existing`` comments (only the conductor's: others are ignored)."""
    out = Plan()
    by_key = {c.key: c for c in wanted}
    matched: set[str] = set()
    for old in existing:
        key = old.key
        if key is None:
            continue
        new = by_key.get(key)
        if new is None or key in matched or (old.path, old.line) != (new.path, new.line):
            out.delete.append(old)
            continue
        matched.add(key)
        if old.body.strip() == body(new).strip():
            out.keep.append(old)
        else:
            out.update.append((old, new))
    out.create = [c for c in wanted if c.key not in matched]
    return out
