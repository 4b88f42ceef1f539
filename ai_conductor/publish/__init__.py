"""Publishing verified changes: one stable branch, one commit per change, one pull request.

from ai_conductor.publish import from_implement, publish
result = publish(repo, from_implement(report, analysis, repo, workflow_id=..., task_id=...))
"""

from ai_conductor.publish.models import Publication, PublishOptions, PublishResult
from ai_conductor.publish.notes import combine, from_implement, from_refine
from ai_conductor.publish.publisher import publish

__all__ = [
    "Publication",
    "PublishOptions",
    "PublishResult",
    "combine",
    "from_implement",
    "from_refine",
    "publish",
]
