"""The refiner: verified formatting and import order, a type report, and a stack review.

from ai_conductor.refine import refine
report = refine(Path("."), stack="python_postgres")
"""

from ai_conductor.refine.models import (
    RefineReport,
    StackReview,
    TidyResult,
    TidyStatus,
    TypeReport,
)
from ai_conductor.refine.refiner import refine
from ai_conductor.refine.stack import STACKS, review_stack

__all__ = [
    "STACKS",
    "RefineReport",
    "StackReview",
    "TidyResult",
    "TidyStatus",
    "TypeReport",
    "refine",
    "review_stack",
]
