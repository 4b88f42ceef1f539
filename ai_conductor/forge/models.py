"""What the conductor tells a forge and reads back: pull requests, reviews, inline comments."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

MARKER_PREFIX = "<!-- ai-conductor:"
RUN_LINE = "inline comment(s). Analysis run"
"""Text of the review summary's line naming the analysis run (differs on every run)."""
"""Start of the hidden HTML comments that mark what the conductor wrote (bodies, reviews)."""


class _Model(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)


class PullRequest(_Model):
    """A pull (merge) request as the conductor needs it, whatever the platform."""

    number: int
    """GitHub/Gitea number, GitLab ``iid``."""
    url: str
    """Where a person opens it."""
    title: str = ""
    state: str = "open"
    draft: bool = False
    head: str = ""
    """Source branch."""
    base: str = ""
    """Target branch."""
    head_sha: str = ""
    labels: list[str] = Field(default_factory=list)
    body: str = ""


class PullRequestDraft(_Model):
    """A pull request to open, or the new title, body and labels of an open one."""

    head: str
    base: str
    title: str
    body: str
    draft: bool = False
    labels: list[str] = Field(default_factory=list)


class InlineComment(_Model):
    """One comment on a changed line of a pull request."""

    path: str
    """POSIX path relative to the repository root."""
    line: int
    """Line in the pull request's new version of the file."""
    body: str
    key: str
    """Stable identity (a finding's fingerprint): a re-run finds its own comment by it."""


class Review(_Model):
    """The conductor's review of a pull request: one summary plus inline comments."""

    marker: str
    """Hidden HTML comment identifying this review (the summary carries it)."""
    commit: str
    """The commit the comments refer to (the pull request's head)."""
    summary: str
    comments: list[InlineComment] = Field(default_factory=list)


class ReviewResult(_Model):
    """What publishing a review did."""

    url: str = ""
    summary: str = "created"
    """``created``; ``updated`` (the earlier summary rewritten in place: GitHub, GitLab);
    ``replaced`` (the earlier review deleted, a new one posted: Gitea, which cannot edit a
    review); ``unchanged`` (Gitea: the same comments and summary already there)."""
    created: int = 0
    """Inline comments posted."""
    updated: int = 0
    deleted: int = 0
    """Earlier inline comments of the conductor that no longer apply."""
    kept: int = 0
    """Earlier inline comments that still apply, left as they were."""


def comment_marker(key: str) -> str:
    return f"{MARKER_PREFIX}finding {key} -->"


def comment_key(body: str) -> str | None:
    """The key of a conductor inline comment (None: not the conductor's)."""
    found = re.search(re.escape(MARKER_PREFIX) + r"finding (\S+) -->", body or "")
    return found.group(1) if found else None


def with_marker(body: str, key: str) -> str:
    return f"{body}\n\n{comment_marker(key)}"
