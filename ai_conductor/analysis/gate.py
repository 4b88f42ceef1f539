"""The quality gate: which reported findings fail a run (the CLI, the audit flows, the API).

``fail_on`` names the lowest severity that fails (``none``: the gate always passes). A failed
gate is :class:`QualityGateFailed`, exit code 1: the run finished, its result did not pass.
"""

from __future__ import annotations

from typing import Literal, get_args

from ai_conductor.analysis.models import AnalysisReport, Severity
from ai_conductor.errors import ConductorError

FailOn = Literal["critical", "high", "medium", "low", "none"]
"""The levels ``--fail-on`` / ``fail_on`` accept, most severe first."""

FAIL_LEVELS: tuple[str, ...] = get_args(FailOn)


class QualityGateFailed(ConductorError):
    """Findings at or above the requested severity were reported."""

    exit_code = 1


def gate(report: AnalysisReport, fail_on: str) -> list[str]:
    """Fingerprints of reported findings at or above ``fail_on`` (empty: the gate passes)."""
    if fail_on == "none":
        return []
    level = Severity(fail_on).rank
    return [f.fingerprint for f in report.findings if f.severity.rank >= level]
