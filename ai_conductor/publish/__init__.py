"""Publishing verified changes: one stable branch, one commit per change, one pull request.

from ai_conductor.publish import from_implement, publish
result = publish(repo, from_implement(report, analysis, repo, workflow_id=..., task_id=...))

The report models import :mod:`.models` only; the rest loads on first use (it needs them).
"""

from __future__ import annotations

from typing import Any

from ai_conductor.publish.models import Publication, PublishOptions, PublishResult

__all__ = [
    "Publication",
    "PublishOptions",
    "PublishResult",
    "combine",
    "from_implement",
    "from_refine",
    "publish",
]


def __getattr__(name: str) -> Any:
    if name in ("combine", "from_implement", "from_refine"):
        from ai_conductor.publish import notes

        return getattr(notes, name)
    if name == "publish":
        from ai_conductor.publish.publisher import publish

        return publish
    raise AttributeError(name)
