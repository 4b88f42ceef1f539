"""The codebase a flow works on: a local directory, or a temporary clone of a git URL.

One clone helper for the audit, fleet-audit and improve flows: hooks off, credentials from the
URL only in git's environment (never in its argv or the clone's config), the clone removed on
exit, and a codebase identity without credentials (``url#branch``) for the findings history.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ai_conductor._paths import expand_user
from ai_conductor._urls import without_credentials
from ai_conductor.publish.gitops import Credentials, clone, split_credentials

GIT_PREFIXES: Final = ("https://", "http://", "ssh://", "git@", "file://")


@dataclass(frozen=True)
class Checkout:
    """Where the codebase is, its identity for history, and the clone's credentials."""

    path: Path
    codebase_id: str
    credentials: Credentials | None = None


def is_git_url(value: str) -> bool:
    return value.startswith(GIT_PREFIXES) or value.endswith(".git")


@contextmanager
def checkout(
    codebase: str, branch: str | None, *, purpose: str, depth: int | None = None
) -> Iterator[Checkout]:
    """``codebase`` itself when it is a directory, else a clone of the URL at ``branch`` in a
    temporary directory (``conductor-<purpose>-*``) that lives until exit."""
    if not is_git_url(codebase):
        path = expand_user(codebase).resolve()
        yield Checkout(path, str(path))
        return
    url, creds = split_credentials(codebase)
    with tempfile.TemporaryDirectory(prefix=f"conductor-{purpose}-") as tmp:
        dest = Path(tmp) / "repo"
        clone(url, dest, branch, creds, depth=depth)
        yield Checkout(dest, f"{without_credentials(codebase)}#{branch or 'HEAD'}", creds)
