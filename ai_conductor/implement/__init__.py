"""The implementer: verified changes for findings, in isolated git worktrees.

from ai_conductor.implement import ImplementOptions, implement
report = implement(analysis, options=ImplementOptions(backend="builtin", apply=False))
"""

from ai_conductor.implement.implementer import ImplementOptions, implement
from ai_conductor.implement.models import ChangeResult, ImplementReport

__all__ = ["ChangeResult", "ImplementOptions", "ImplementReport", "implement"]
