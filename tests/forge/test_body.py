"""The pull-request body renders as intended whatever the codebase's text holds, and fits the
platforms' size limit (GitHub: 65,536 characters)."""

from __future__ import annotations

import re

from markdown_it import MarkdownIt

from ai_conductor.publish import body
from ai_conductor.publish.models import ChangeNote, Dropped, FindingNote, Publication

EVIL = "`x` | <script>alert(1)</script> **bold** [link](http://e) \n second line"


def _publication(findings: int, dropped: int = 1) -> Publication:
    notes = [FindingNote(rule="ruff/S602", path=f"pkg|{i}.py", line=i + 1, message=EVIL)
             for i in range(findings)]  # fmt: skip
    change = ChangeNote(group="file:a.py", task="fix", commit="c" * 40, branch="b",
                        title="fix `it` | now", findings=notes, files=["a.py"],
                        tests="`pytest -q` passed in 1.0s")  # fmt: skip
    return Publication(
        workflow_id="improve", tasks=["fix", "refine"], run_id="r1", codebase="/x",
        changes=[change], analyzer=["before: 3", "after: gone"], environment="venv <b>",
        test_command="python -m pytest -q",
        dropped=[Dropped(group=f"g{i}", task="fix", status="discarded", reason=EVIL)
                 for i in range(dropped)],
    )  # fmt: skip


def _html(text: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(text)


def test_the_body_renders_tables_and_escapes_the_codebases_text() -> None:
    text = body.render(_publication(3), {"file:a.py": "a" * 40}, {"file:b.py": EVIL})
    html = _html(text)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    assert len(rows) == 1 + 3  # header + one row per finding: no bar broke a row
    assert all(len(re.findall(r"<t[dh]", row)) == 4 for row in rows)
    assert "<script>" not in html
    assert "&lt;script&gt;" in html  # shown as text
    assert "<strong>bold</strong>" not in html  # the codebase's emphasis neutralised
    assert "<details>" in text
    assert "Not included: 2 change(s)" in text  # discarded + left out
    assert text.rstrip().endswith("<!-- ai-conductor:publication improve/fix+refine -->")


def test_a_huge_publication_is_cut_to_fit() -> None:
    text = body.render(_publication(5000, dropped=3000), {"file:a.py": "a" * 40}, {})
    assert len(text) <= 60_000
    assert "… and " in text
    assert text.rstrip().endswith("-->")  # the marker survives the cut
    html = _html(text)
    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    assert all(len(re.findall(r"<t[dh]", row)) == 4 for row in rows)


def test_the_title_counts_changes_and_findings() -> None:
    title = body.title(_publication(3), 1)
    assert title == "ai-conductor: 1 verified change, 3 finding(s) fixed (improve/fix+refine)"


def test_without_tests_the_body_says_so_once() -> None:
    from ai_conductor.environment.models import EnvKind, ProjectEnvironment
    from ai_conductor.publish.notes import _environment

    none = ProjectEnvironment(kind=EnvKind.NONE, reason="no tests found")
    assert _environment(none) == ("", "none")
    bare = _publication(1).model_copy(update={"environment": "", "test_command": "none"})
    text = body.render(bare, {}, {})
    assert "- tests: none found" in text
    assert "- environment:" not in text
    venv = ProjectEnvironment(kind=EnvKind.VENV, reason="found .venv", location="/p/.venv",
                              test_command=["/p/.venv/bin/python", "-m", "pytest"])  # fmt: skip
    described, command = _environment(venv)
    assert described == "venv environment /p/.venv; chosen because found .venv"
    assert command == "/p/.venv/bin/python -m pytest"
