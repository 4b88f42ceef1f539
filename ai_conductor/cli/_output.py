"""Findings on a terminal, readable at any width, most severe first.

Nothing wraps: paths are shortened from the left (``…/models/user.py:42``) and messages end in
``…`` when they do not fit; ``--json`` (or a report file) has the full detail. Used by
``conductor findings list`` and by the summary of ``conductor analyze``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final

from rich import box
from rich.console import Group
from rich.progress import ProgressColumn, Task
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from ai_conductor.analysis.models import AnalysisReport, Finding

SEVERITY_STYLE: Final = {
    "critical": "bold red",
    "high": "red",
    "medium": "yellow",
    "low": "cyan",
    "info": "dim",
}
STATUS_STYLE: Final = {"new": "bold", "existing": "dim", "fixed": "green"}
FINGERPRINT_SHOWN: Final = 10
"""Characters of the fingerprint shown (``findings dismiss`` takes 8 or more)."""
WIDE: Final = 120
"""From this many columns on, one table line per finding with every column; narrower
terminals get two lines per finding (what and where, then rule and message)."""
ELLIPSIS: Final = "…"


def shorten_left(text: str, width: int) -> str:
    """``text`` in at most ``width`` characters, cut at the start: a path's tail matters most."""
    if len(text) <= width:
        return text
    return ELLIPSIS + text[len(text) - width + 1 :] if width > 1 else ELLIPSIS


def flat(text: str) -> str:
    """One line: runs of whitespace (newlines too) become one space."""
    return " ".join(text.split())


def _cells(f: Finding) -> tuple[Text, Text, Text]:
    return (
        Text(f.fingerprint[:FINGERPRINT_SHOWN].ljust(FINGERPRINT_SHOWN)),
        Text(f.severity.value.ljust(8), style=SEVERITY_STYLE.get(f.severity.value, "")),
        Text(f.status.value.ljust(8), style=STATUS_STYLE.get(f.status.value, "")),
    )


def _narrow(found: Sequence[Finding], width: int) -> list[Text]:
    """Two lines per finding: what and where, then the rule and message (cut to fit)."""
    head = "fingerprint severity  status    location / rule: message"
    lines = [Text(head[:width], style="dim")]
    room = max(width - FINGERPRINT_SHOWN - 22, 8)
    for f in found:
        fp, severity, status = _cells(f)
        where = shorten_left(f"{f.path}:{f.line}", room)
        lines.append(Text.assemble(fp, "  ", severity, "  ", status, "  ", where))
        body = Text.assemble("  ", (f"{f.tool}:{f.rule_id}", "bold"), " ", flat(f.message))
        body.truncate(width, overflow="ellipsis")
        lines.append(body)
        lines.extend([_trace(f, width)] if f.trace else [])
    return lines


def _trace(f: Finding, width: int, label: str = "  trace: ") -> Text:
    """A taint finding's source -> sink steps on one line under it (cut to fit)."""
    from ai_conductor.reports.trace import trace_line

    line = Text.assemble((label, "dim"), trace_line(f))
    line.truncate(width, overflow="ellipsis")
    return line


def _wide(found: Sequence[Finding], width: int) -> Table:
    """One line per finding, every column; the message is cut to fit."""
    where_width = min(max((len(f"{f.path}:{f.line}") for f in found), default=8), width // 4)
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True,
                  expand=True, width=width)  # fmt: skip
    for name, size in (("fingerprint", 11), ("severity", 8), ("status", 8), ("category", 15),
                       ("location", max(where_width, 8))):  # fmt: skip
        table.add_column(name, no_wrap=True, width=size)
    table.add_column("rule: message", no_wrap=True, overflow="ellipsis", ratio=1)
    for f in found:
        rule = f"{f.tool}:{f.rule_id}" + (f" ({f.rule_name})" if f.rule_name else "")
        table.add_row(
            *_cells(f), Text(f.category.value),
            Text(shorten_left(f"{f.path}:{f.line}", max(where_width, 8))),
            Text.assemble((rule, "bold"), " ", flat(f.message)[:1000]),
        )  # fmt: skip
        if f.trace:  # the source -> sink steps under the message
            table.add_row("", "", "", "", Text("trace", style="dim"), _trace(f, width, ""))
    return table


def findings_view(found: Sequence[Finding], width: int, *, title: str = "") -> Group:
    """``found`` in ``width`` columns: a table from :data:`WIDE` columns on, else two lines per
    finding; no cell ever wraps."""
    parts: list[Table | Text] = [Text(title, style="bold")] if title else []
    if width >= WIDE:
        parts.append(_wide(found, width))
    else:
        parts.extend(_narrow(found, width))
    return Group(*parts)


class CountColumn(ProgressColumn):
    """``done/total`` once the total is known; nothing before (never ``0/None``)."""

    def __init__(self, unit: str = "") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        unit = f" {self.unit}" if self.unit else ""
        return Text(f"{int(task.completed)}/{int(task.total)}{unit}")


TOP: Final = 5
"""Findings the summary of ``conductor analyze`` shows."""


def where_findings_are(
    report: AnalysisReport, *, output: Path | None, to_stdout: bool, width: int
) -> Group:
    """The most severe findings of ``report``, then where all of them are (or how to get them)."""
    parts: list[Text | Group] = []
    if report.findings:
        shown = report.findings[:TOP]
        title = f"top {len(shown)} of {len(report.findings)} finding(s), most severe first"
        parts.append(findings_view(shown, width, title=title))
    if output is not None:
        hint = " (open it in a browser)" if output.suffix.lower() in (".html", ".htm") else ""
        parts.append(Text.assemble(("full report: ", "bold"), str(output), hint))
    elif to_stdout:
        parts.append(Text.assemble(("full report: ", "bold"), "on stdout"))
    elif report.findings:
        parts.append(Text.assemble(
            ("all findings: ", "bold"), f"conductor findings list --run {report.run_id}\n",
            ("a report file: ", "bold"), "conductor analyze --output report.html "
            "(or .sarif, .md, .json)",
        ))  # fmt: skip
    return Group(*parts)
