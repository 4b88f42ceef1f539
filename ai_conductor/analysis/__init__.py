"""The analyzer: established tools (ruff, bandit, radon, optional vulture and semgrep) behind one
interface, normalised findings with stable fingerprints, a per-file cache, and memory across runs.

    from ai_conductor.analysis import analyze
    report = analyze(Path("."), focus=["security"])
"""

from ai_conductor.analysis.engine import analyze, check_focus, scan
from ai_conductor.analysis.models import (
    SCHEMA_VERSION,
    AnalysisReport,
    Category,
    Finding,
    FindingStatus,
    Hotspot,
    Severity,
)

__all__ = [
    "SCHEMA_VERSION",
    "AnalysisReport",
    "Category",
    "Finding",
    "FindingStatus",
    "Hotspot",
    "Severity",
    "analyze",
    "check_focus",
    "scan",
]
