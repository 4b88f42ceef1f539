"""One self-contained HTML page of an analysis: counts, trend, hotspots, filterable findings.

The page needs nothing from the network: its CSS and JavaScript are inline (``assets/``), the
charts are inline SVG, and a Content-Security-Policy allows only those two inline blocks (by
hash), so nothing else can load or run even if a browser is asked to. Everything that comes from
the codebase (paths, messages, names) is HTML-escaped; the script only reads ``data-*``
attributes and shows, hides or reorders rows. Without JavaScript the table is still complete.
"""

from __future__ import annotations

import base64
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import cache
from html import escape
from importlib.resources import files
from pathlib import PurePath
from typing import Any

from ai_conductor.analysis.models import AnalysisReport, Category, Finding, Severity
from ai_conductor.reports.html_charts import TrendPoint, hotspots_svg, trend_svg
from ai_conductor.reports.trace import steps

__all__ = ["TrendPoint", "to_html", "trend_points"]


def _e(value: object) -> str:
    return escape(str(value), quote=True)


@cache
def _asset(name: str) -> str:
    return files("ai_conductor.reports").joinpath("assets", name).read_text(encoding="utf-8")


def _hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


def trend_points(runs: Iterable[Any], report: AnalysisReport | None = None) -> list[TrendPoint]:
    """Stored runs (``FindingsMemory.runs``: ``run_id``, ``finished_at``, ``summary``), oldest
    first, with ``report`` itself added when it was not stored."""
    points = {
        r.run_id: TrendPoint(
            r.run_id, r.finished_at, r.summary.total, r.summary.new, r.summary.fixed
        )
        for r in runs
    }
    if report is not None and report.run_id not in points:
        s = report.summary
        total = s.total or len(report.findings)
        points[report.run_id] = TrendPoint(report.run_id, report.finished_at, total, s.new, s.fixed)
    return sorted(points.values(), key=lambda p: (p.finished_at is None, p.finished_at, p.run_id))


def _card(css: str, number: int, label: str) -> str:
    return (f'<div class="card {css}"><span class="num">{number}</span>'
            f'<span class="label">{label}</span></div>')  # fmt: skip


def _cards(report: AnalysisReport) -> str:
    by_sev = Counter(f.severity.value for f in report.findings)
    s = report.summary
    cards = [_card("total", len(report.findings), "findings")]
    cards += [_card(sev.value, by_sev[sev.value], sev.value) for sev in Severity]
    cards += [_card("new", s.new, "new since last run"), _card("fixed", s.fixed, "fixed"),
              _card("dismissed", s.dismissed, "dismissed")]  # fmt: skip
    return '<section class="cards">' + "".join(cards) + "</section>"


def _rule_cell(f: Finding) -> str:
    rule = f"{f.tool}:{f.rule_id}"
    if f.help_uri and f.help_uri.startswith(("https://", "http://")):
        rule = (f'<a href="{_e(f.help_uri)}" target="_blank" rel="noopener noreferrer">'
                f"{_e(rule)}</a>")  # fmt: skip
    else:
        rule = _e(rule)
    name = f"<small>{_e(f.rule_name)}</small>" if f.rule_name else ""
    return f'<td class="rule">{rule}{name}</td>'


def _row(f: Finding) -> str:
    sev, where = f.severity.value, f"{f.path}:{f.line}"
    data = {"rank": f.severity.rank, "severity": sev, "category": f.category.value,
            "status": f.status.value, "path": f.path, "line": f.line,
            "rule": f"{f.tool}:{f.rule_id}"}  # fmt: skip
    attrs = " ".join(f'data-{k}="{_e(v)}"' for k, v in data.items())
    also = f" (also {', '.join(f.also_reported_by)})" if f.also_reported_by else ""
    return (
        f'<tr {attrs}><td><span class="sev {sev}">{sev}</span></td>'
        f'<td class="status {_e(f.status.value)}">{_e(f.status.value)}</td>'
        f'<td class="cat">{_e(f.category.value)}</td>{_rule_cell(f)}'
        f'<td class="loc" title="{_e(where)}"><span>{_e(where)}</span></td>'
        f'<td class="msg">{_e(f.message)}{_e(also)}{_trace(f)}</td></tr>'
    )


def _trace(f: Finding) -> str:
    """A taint finding's source -> sink steps: where and the code, one line each."""
    shown = steps(f, full=True)
    if not shown:
        return ""
    items = "".join(
        f'<li class="{_e(s.kind)}"><span class="kind">{_e(s.kind)}</span> '
        f"<code>{_e(s.where)}</code> <code>{_e(s.code)}</code></li>"
        for s in shown
    )
    return f'<ol class="trace" aria-label="data flow, source to sink">{items}</ol>'


def _filters(findings: Sequence[Finding]) -> str:
    by_sev = Counter(f.severity.value for f in findings)
    by_cat = Counter(f.category.value for f in findings)
    chips = "".join(
        f'<label class="chip"><input type="checkbox" name="severity" value="{s.value}" checked>'
        f'{s.value} <span class="n">{by_sev[s.value]}</span></label>'
        for s in Severity
    )
    cats = "".join(f'<option value="{c.value}">{c.value} ({by_cat[c.value]})</option>'
                   for c in Category if by_cat[c.value])  # fmt: skip
    return (
        f'<div class="filters"><fieldset><legend>Severity</legend>{chips}</fieldset>'
        f'<label class="field">Category <select id="filter-category"><option value="">all'
        f"</option>{cats}</select></label>"
        '<label class="field">Status <select id="filter-status"><option value="">all</option>'
        '<option value="new">new</option><option value="existing">existing</option></select>'
        '</label><label class="field">Path <input type="search" id="filter-path" '
        'placeholder="e.g. src/api/" autocomplete="off"></label>'
        f'<span id="shown">{len(findings)} of {len(findings)} shown</span></div>'
    )


_HEAD = (("severity", "Severity"), ("status", "Status"), ("category", "Category"),
         ("rule", "Rule"), ("location", "Location"), ("", "Message"))  # fmt: skip


def _findings(findings: Sequence[Finding]) -> str:
    head = "".join(
        f'<th data-key="{k}" class="{k}"><button type="button">{label}</button></th>' if k else
        f"<th>{label}</th>" for k, label in _HEAD
    )  # fmt: skip
    rows = "".join(_row(f) for f in sorted(findings, key=Finding.sort_key))
    return (
        f'<section class="panel"><h2>Findings</h2>{_filters(findings)}<div class="table-wrap">'
        f'<table id="findings"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'
        f'</div><p class="empty" id="no-match" hidden>No finding matches these filters.</p>'
        "</section>"
    )


def _details(title: str, items: Sequence[str]) -> str:
    if not items:
        return ""
    lis = "".join(f"<li>{item}</li>" for item in items)
    return (f'<details class="panel"><summary>{_e(title)} ({len(items)})</summary>'
            f"<ul>{lis}</ul></details>")  # fmt: skip


def _charts(report: AnalysisReport, trend: Sequence[TrendPoint]) -> str:
    runs = len(trend)
    note = ('<p class="note">The first run of this codebase: the trend grows with each analysis.'
            "</p>") if runs <= 1 else ""  # fmt: skip
    legend = ('<div class="legend"><span><i class="k-total"></i>total</span><span>'
              '<i class="k-new"></i>new</span><span><i class="k-fixed"></i>fixed</span>'
              "</div>")  # fmt: skip
    hot = hotspots_svg(report.hotspots) if report.hotspots else (
        '<p class="note">No function is complex enough to be a hotspot.</p>'
    )  # fmt: skip
    return (
        f'<section class="charts"><figure class="panel" id="trend"><figcaption>Trend'
        f"<small>{runs} run(s) of this codebase</small></figcaption>{trend_svg(trend)}{legend}"
        f'{note}</figure><figure class="panel" id="hotspots"><figcaption>Hotspots<small>'
        f"complexity &times; (1 + commits touching the file)</small></figcaption>{hot}</figure>"
        "</section>"
    )


def _header(report: AnalysisReport) -> str:
    name = PurePath(report.codebase).name or report.codebase
    tools = ", ".join(f"{t.name} {t.version or '(not installed)'}" for t in report.tools)
    meta = (f"<code>{_e(report.codebase)}</code> · run <code>{_e(report.run_id[:12])}</code> · "
            f"{report.finished_at:%Y-%m-%d %H:%M} UTC · {report.files_analyzed} files analysed, "
            f"{len(report.skipped)} skipped · {_e(tools)}")  # fmt: skip
    return (f'<header><div class="brand">ai-conductor · analysis report</div><h1>{_e(name)}</h1>'
            f'<p class="meta">{meta}</p></header>')  # fmt: skip


def to_html(report: AnalysisReport, *, trend: Sequence[TrendPoint] = ()) -> str:
    """The page; ``trend``: this codebase's stored runs (see :func:`trend_points`)."""
    css, js = _asset("report.css"), _asset("report.js")
    points = list(trend) or trend_points([], report)
    policy = (f"default-src 'none'; style-src '{_hash(css)}'; script-src '{_hash(js)}'; "
              "img-src data:; base-uri 'none'; form-action 'none'")  # fmt: skip
    fixed = [f"<code>{_e(f.path)}:{f.line}</code> {_e(f.tool)}:{_e(f.rule_id)} {_e(f.message)}"
             for f in report.fixed]  # fmt: skip
    skipped = [f"<code>{_e(s.path)}</code>: {_e(s.reason)}" for s in report.skipped]
    body = (
        f'<div class="wrap">{_header(report)}{_cards(report)}{_charts(report, points)}'
        f"{_findings(report.findings)}"
        f"{_details('Fixed since the previous run', fixed)}"
        f"{_details('Files not analysed', skipped)}"
        f"{_details('Warnings', [_e(w) for w in report.warnings])}"
        f"<footer>Generated by {_e(report.generator)} {_e(report.generator_version)} · "
        f"analysis.json schema {_e(report.schema_version)} · codebase id "
        f"<code>{_e(report.codebase_id)}</code></footer></div>"
    )
    title = f"{PurePath(report.codebase).name or report.codebase} · code analysis"
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>{_e(title)}</title><style>{css}</style></head>"
        f"<body>{body}<script>{js}</script></body></html>"
    )
