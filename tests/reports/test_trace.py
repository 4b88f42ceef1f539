"""A taint finding's source -> sink trace is visible to people: in the Markdown summary, on the
HTML page and on the terminal (`conductor analyze`'s summary, `conductor findings list`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console

from ai_conductor.analysis.models import Category, Finding, Severity, TraceStep
from ai_conductor.cli._output import findings_view, where_findings_are
from ai_conductor.reports.html import to_html
from ai_conductor.reports.markdown import to_markdown
from ai_conductor.reports.trace import MAX_CODE, trace_line
from tests.reports.test_reports import finding, make_report

SINK = "cursor.execute('SELECT a | b FROM t WHERE a = ' + author + ' AND c = d AND e = f')"


def _taint(**kw: object) -> Finding:
    steps = [
        TraceStep(kind="source", path="app/views.py", line=11, code="request.GET"),
        TraceStep(kind="step", path="app/views.py", line=11, code="author"),
        TraceStep(kind="sink", path="app/views.py", line=12, code=SINK),
    ]
    fields: dict[str, object] = {
        "tool": "taint", "rule_id": "sql-injection", "rule_name": "SQL injection",
        "severity": Severity.HIGH, "category": Category.SECURITY, "path": "app/views.py",
        "line": 12, "end_line": 12, "message": "Request data reaches an SQL query.",
        "trace": steps,
    }  # fmt: skip
    return finding(**{**fields, **kw})


def test_the_trace_line_is_compact() -> None:
    line = trace_line(_taint())
    assert line.startswith(":11 request.GET -> :11 author -> :12 cursor.execute(")
    assert line.endswith("…")  # the sink's code is cut
    assert len(line.split(" -> ")[-1]) == len(":12 ") + MAX_CODE
    other = _taint(path="app/other.py")  # a trace starting in another file names it
    assert trace_line(other).startswith("app/views.py:11 request.GET -> :11 author")
    assert trace_line(finding()) == ""


def test_markdown_shows_the_trace_under_the_message() -> None:
    text = to_markdown(make_report([_taint(), finding()]))
    (row,) = [line for line in text.splitlines() if "taint/sql-injection" in line]
    assert "Request data reaches an SQL query.<br>trace: `:11 request.GET -> :11 author" in row
    assert row.count(" | ") == 4  # the cell's own '|' is escaped
    assert "a \\| b" in row
    assert "trace:" not in text.split("E501")[1].splitlines()[0]  # no trace, no line


def test_the_html_page_lists_each_step_with_its_location_and_code() -> None:
    page = to_html(make_report([_taint(), finding()]))
    assert '<ol class="trace" aria-label="data flow, source to sink">' in page
    assert (
        '<li class="source"><span class="kind">source</span> <code>app/views.py:11</code> '
        "<code>request.GET</code></li>"
    ) in page
    assert '<li class="step"><span class="kind">step</span> <code>app/views.py:11</code>' in page
    assert "<code>cursor.execute(&#x27;SELECT a | b FROM t WHERE a = &#x27; + author" in page
    assert page.count('<ol class="trace"') == 1  # the finding without a trace has none


@pytest.mark.parametrize("width", [80, 160])
def test_the_terminal_shows_the_trace_at_every_width(width: int) -> None:
    console = Console(width=width, record=True, force_terminal=False)
    console.print(findings_view([_taint(), finding()], width))
    text = console.export_text()
    assert ":11 request.GET -> :11 author -> :12 cursor.execute" in text
    assert text.count("trace") == 1
    assert max(len(line) for line in text.splitlines()) <= width


def test_the_analyze_summary_shows_the_trace(tmp_path: Path) -> None:
    console = Console(width=100, record=True, force_terminal=False)
    report = make_report([_taint()])
    console.print(where_findings_are(report, output=tmp_path / "r.json", to_stdout=False,
                                     width=100))  # fmt: skip
    assert "trace: :11 request.GET -> :11 author" in console.export_text()
