"""The type report: the real mypy on seeded errors, the project's mypy config, and the notes."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_conductor.refine import refine
from ai_conductor.refine import typecheck as tc
from ai_conductor.settings import get_settings
from tests.refine.conftest import make_repo

pytestmark = pytest.mark.usefixtures("conductor_home")

SEEDED = """def double(x: int) -> int:
    return x * 2


VALUE = double("2")


def untyped(x):
    return x
"""


def test_mypy_reports_a_seeded_type_error_with_path_line_and_code(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "typed", {"pkg/__init__.py": "", "pkg/a.py": SEEDED})
    report = tc.type_report(root, get_settings())
    assert report.available
    assert report.note == ""
    ((finding),) = report.findings  # untyped() is not checked without the project asking
    assert (finding.tool, finding.rule_id, finding.path) == ("mypy", "arg-type", "pkg/a.py")
    assert (finding.line, finding.column) == (5, 16)
    assert (finding.severity.value, finding.category.value) == ("medium", "bug")
    assert '"str"' in finding.message
    assert len(finding.fingerprint) == 32
    assert report.errors == 1
    assert report.by_code == {"arg-type": 1}
    assert not (root / ".mypy_cache").exists()  # the cache lives under CONDUCTOR_HOME


def test_the_projects_mypy_config_is_respected_and_hygiene_is_low(tmp_path: Path) -> None:
    config = "[tool.mypy]\ndisallow_untyped_defs = true\n"
    root = make_repo(tmp_path / "strict", {"pkg/__init__.py": "", "pkg/a.py": SEEDED,
                                           "pyproject.toml": config})  # fmt: skip
    report = tc.type_report(root, get_settings())
    assert report.by_code == {"arg-type": 1, "no-untyped-def": 1}
    untyped = next(f for f in report.findings if f.rule_id == "no-untyped-def")
    assert (untyped.line, untyped.severity.value, untyped.category.value) == (
        8, "low", "maintainability",
    )  # fmt: skip


def test_a_mypy_that_cannot_check_the_code_is_a_note(tmp_path: Path) -> None:
    files = {"a/test_x.py": "X = 1\n", "b/test_x.py": "Y = 2\n"}  # two modules named test_x
    root = make_repo(tmp_path / "dupes", files)
    report = tc.type_report(root, get_settings())
    assert report.available
    assert report.findings == []
    assert report.note.startswith("mypy exited 2")
    assert "Duplicate module" in report.note


def test_without_mypy_the_report_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_repo(tmp_path / "plain", {"a.py": SEEDED})
    monkeypatch.setattr(tc, "find_binary", lambda name: None)
    report = refine(root, tidy_code=False)
    assert report.type_report is not None
    assert not report.type_report.available
    assert report.type_report.note.startswith("mypy not available")
    assert report.tidy is None


def test_the_text_format_fallback_parses_mypys_lines() -> None:
    line = 'pkg/a.py:5:16: error: Argument 1 to "double" has incompatible type "str"  [arg-type]'
    item = tc._parse(line, json_out=False)
    assert item is not None
    finding = tc._finding(item, Path.cwd())
    assert (finding.path, finding.line, finding.column, finding.rule_id) == (
        "pkg/a.py", 5, 16, "arg-type",
    )  # fmt: skip
    assert tc._parse("Success: no issues found", json_out=False) is None
