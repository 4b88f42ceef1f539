"""A taint finding's source -> sink trace, compact and the same in every human-readable report.

``:11 request.GET -> :11 author -> :12 cursor.execute(sql % author)``: one step per location,
source first and sink last; a step's path is written only when it is not the file of the step
before (the finding's own file for the first: Semgrep CE's traces stay inside one function),
and its code is flattened to one line and cut to :data:`MAX_CODE` characters. The Markdown
summary, the HTML page and the terminal (``conductor analyze``, ``conductor findings list``) all
show this; SARIF carries the full trace as ``codeFlows`` and analysis.json as ``Finding.trace``.
"""

from __future__ import annotations

from dataclasses import dataclass

from ai_conductor.analysis.models import Finding

MAX_CODE = 60
ARROW = " -> "


@dataclass(frozen=True)
class Step:
    """One step as shown: its kind, where it is (``path:line`` or ``:line`` in the same file
    as the step before) and its code on one line."""

    kind: str
    where: str
    code: str


def _code(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_CODE else flat[: MAX_CODE - 1] + "…"


def steps(finding: Finding, *, full: bool = False) -> list[Step]:
    """The finding's trace as shown (empty for findings without one); ``full``: every step's
    ``path:line``."""
    shown: list[Step] = []
    previous = None if full else finding.path
    for step in finding.trace:
        same = step.path == previous and not full
        where = f":{step.line}" if same else f"{step.path}:{step.line}"
        previous = step.path
        shown.append(Step(step.kind, where, _code(step.code)))
    return shown


def trace_line(finding: Finding) -> str:
    """``:11 request.GET -> :11 author -> :12 cursor.execute(...)``; empty without a trace."""
    return ARROW.join(f"{s.where} {s.code}".rstrip() for s in steps(finding))
