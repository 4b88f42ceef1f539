"""Forges: where verified changes become pull requests (GitHub, GitLab, Gitea/Forgejo).

``open_forge(config)`` builds the client for one repository from the name table :data:`FORGES`
(or a plugin: the ``ai_conductor.forges`` entry-point group, a ``package.module:Class`` path);
each client lives in its own module and needs its optional extra
(``pip install 'ai-conductor[github]'``, ``[gitlab]``, ``[gitea]``).
"""

from ai_conductor.forge.models import (
    InlineComment,
    PullRequest,
    PullRequestDraft,
    Review,
    ReviewResult,
)
from ai_conductor.forge.registry import FORGES, open_forge

__all__ = [
    "FORGES",
    "InlineComment",
    "PullRequest",
    "PullRequestDraft",
    "Review",
    "ReviewResult",
    "open_forge",
]
