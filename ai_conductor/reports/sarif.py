"""SARIF 2.1.0 for GitHub code scanning: one run, one rule per ``tool/rule_id``.

GitHub takes the *category* of an upload from ``run.automationDetails.id``: everything before
the last ``/`` (so ``f"{category}/"`` means exactly ``category``). Two runs with the same
category in one upload are rejected, and upload-sarif's ``category`` input overrides this id.
GitHub ignores results beyond 5,000 per run and rejects uploads over 25,000 results or 10 MB
gzipped: we keep 5,000 (one run, so the 25,000 cap cannot be reached), security findings first,
then the most severe, and drop the last further until the gzipped JSON fits; every cut is a
warning returned to the caller and a notification in the run, counted by category.

The run's invocation also says how much of the codebase each tool could read
(``toolExecutionNotifications``: one per tool, and one per file a tool could not read).
"""

from __future__ import annotations

import gzip
import hashlib
import json
from datetime import UTC, datetime
from pathlib import PurePath
from typing import Any
from urllib.parse import quote

from ai_conductor.analysis.models import AnalysisReport, Category, Finding
from ai_conductor.reports.priority import by_priority, cut_by_category
from ai_conductor.reports.sarif_notes import notifications

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://github.com/ai-conductor/ai-conductor"
MAX_RESULTS_PER_RUN = 5_000
MAX_GZIP_BYTES = 10 * 1024 * 1024
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}
SECURITY_SEVERITY = {"critical": "9.0", "high": "7.5", "medium": "5.0", "low": "2.0"}


def sarif_uri(path: str) -> str:
    """A repo-relative POSIX path as a URI reference: no leading slash, spaces etc. encoded.

    A backslash is part of a POSIX file name (``a\\b.py`` is one file), so it is encoded as
    ``%5C`` like any other reserved character, never turned into a directory separator."""
    posix = path
    while posix.startswith("./"):
        posix = posix[2:]
    return quote(posix.lstrip("/"), safe="/")


def dumps(doc: dict[str, Any]) -> str:
    """The SARIF document as written to disk (and measured against GitHub's size limit)."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def _utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _rule_key(finding: Finding) -> str:
    return f"{finding.tool}/{finding.rule_id}"


def _fingerprint(finding: Finding) -> str:
    if finding.fingerprint:
        return finding.fingerprint
    raw = "\0".join((_rule_key(finding), finding.path, " ".join(finding.message.split())))
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _rule(key: str, group: list[Finding]) -> dict[str, Any]:
    first = group[0]  # the most severe: findings arrive sorted
    title = first.rule_name or first.rule_id
    uri = next((f.help_uri for f in group if f.help_uri), None)
    text = f"{first.tool} rule {first.rule_id} ({title}). Example finding: {first.message}"
    md = f"**{first.tool} `{first.rule_id}`** ({title})\n\nExample finding: {first.message}\n\n"
    advice = "Fix the code at the reported location"
    advice += ", or apply the tool's automatic fix." if any(f.fixable for f in group) else "."
    if uri:
        advice += f" The rule's documentation explains what it checks and how to fix it: {uri}"
    tags = {t for f in group for t in (f.category.value, *f.tags)}
    tags |= {f"external/cwe/cwe-{t[4:]}" for t in tags if t.upper().startswith("CWE-")}
    security = [f for f in group if f.category is Category.SECURITY]
    props: dict[str, Any] = {"tags": sorted(tags | ({"security"} if security else set()))}
    if security and security[0].severity.value in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[security[0].severity.value]
    rule: dict[str, Any] = {
        "id": key,
        "name": title,
        "shortDescription": {"text": f"{first.tool} {first.rule_id}: {title}"},
        "fullDescription": {"text": text},
        "help": {"text": f"{text}\n\n{advice}", "markdown": md + advice},
        "defaultConfiguration": {"level": LEVELS[first.severity.value]},
        "properties": props,
    }
    if uri:
        rule["helpUri"] = uri
    return rule


def _location(path: str, region: dict[str, Any]) -> dict[str, Any]:
    return {
        "physicalLocation": {
            "artifactLocation": {"uri": sarif_uri(path), "uriBaseId": "%SRCROOT%"},
            "region": region,
        }
    }


def _region(line: int, column: int, end_line: int | None, end_column: int | None) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": line, "startColumn": column}
    region["endLine"] = max(end_line or line, line)
    if (
        end_column is not None
        and end_column >= 1
        and (region["endLine"] > line or end_column > column)
    ):
        region["endColumn"] = end_column
    return region


TRACE_TEXT = {
    "source": "request data enters: {}",
    "step": "flows into {}",
    "sink": "reaches the sink: {}",
}
TRACE_KINDS = {"source": ["taint", "source"], "step": ["taint"], "sink": ["taint", "sink"]}


def _code_flows(finding: Finding) -> list[dict[str, Any]]:
    """The taint trace as one SARIF codeFlow (source first, sink last)."""
    steps = [
        {
            "location": {
                **_location(s.path, _region(s.line, s.column, s.end_line, s.end_column)),
                "message": {"text": TRACE_TEXT[s.kind].format(s.code or s.kind)},
            },
            "kinds": TRACE_KINDS[s.kind],
            "executionOrder": order,
        }
        for order, s in enumerate(finding.trace, 1)
    ]
    return [{"threadFlows": [{"locations": steps}]}]


def _result(finding: Finding, index: int) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": finding.line, "startColumn": finding.column}
    region["endLine"] = max(finding.end_line, finding.line)
    if finding.end_column is not None and finding.end_column >= 1:
        region["endColumn"] = finding.end_column
    fingerprint = _fingerprint(finding)
    result = {
        "ruleId": _rule_key(finding),
        "ruleIndex": index,
        "level": LEVELS[finding.severity.value],
        "message": {"text": finding.message},
        "locations": [_location(finding.path, region)],
        "partialFingerprints": {
            "primaryLocationLineHash": fingerprint,
            "aiConductor/v1": fingerprint,
        },
        "baselineState": "new" if finding.status.value == "new" else "unchanged",
        "properties": {
            "severity": finding.severity.value,
            "category": finding.category.value,
            "status": finding.status.value,
            "also_reported_by": list(finding.also_reported_by),
        },
    }
    if finding.trace:
        result["codeFlows"] = _code_flows(finding)
    return result


def _run(
    report: AnalysisReport, findings: list[Finding], category: str, cuts: list[str]
) -> dict[str, Any]:
    groups: dict[str, list[Finding]] = {}
    for finding in findings:
        groups.setdefault(_rule_key(finding), []).append(finding)
    index = {key: i for i, key in enumerate(groups)}
    root: dict[str, Any] = {"description": {"text": "The root of the analysed codebase."}}
    if PurePath(report.codebase).is_absolute():
        root["uri"] = PurePath(report.codebase).as_uri().rstrip("/") + "/"
    notes = notifications(report, cuts)
    failed = any(t.error or not t.available for t in report.tools)
    return {
        "tool": {
            "driver": {
                "name": "ai-conductor",
                "version": report.generator_version or _package_version(),
                "informationUri": INFORMATION_URI,
                "rules": [_rule(key, group) for key, group in groups.items()],
            }
        },
        "automationDetails": {"id": f"{category.rstrip('/') or 'ai-conductor'}/"},
        "originalUriBaseIds": {"%SRCROOT%": root},
        "columnKind": "unicodeCodePoints",
        "invocations": [
            {
                "executionSuccessful": not failed,
                "startTimeUtc": _utc(report.started_at),
                "endTimeUtc": _utc(report.finished_at),
                "toolExecutionNotifications": notes,
            }
        ],
        "results": [_result(f, index[_rule_key(f)]) for f in findings],
    }


def _package_version() -> str:
    from ai_conductor._version import package_version

    return package_version()


def to_sarif(
    report: AnalysisReport,
    *,
    category: str,
    max_results: int = MAX_RESULTS_PER_RUN,
    max_gzip_bytes: int = MAX_GZIP_BYTES,
) -> tuple[dict[str, Any], list[str]]:
    """The SARIF document for ``report`` and warnings about results cut to fit GitHub."""
    ranked = by_priority(report.findings)
    findings = ranked[:max_results]
    cuts: list[str] = []
    if len(ranked) > max_results:
        cuts.append(
            f"SARIF: {len(ranked) - max_results} findings left out, GitHub reads at most "
            f"{max_results} results per run: {cut_by_category(ranked[max_results:])}; "
            "all findings are in analysis.json"
        )
    kept = len(findings)
    while True:
        extra = [] if len(findings) == kept else [
            f"SARIF: {kept - len(findings)} more findings left out to keep the gzipped upload "
            f"under GitHub's {max_gzip_bytes} bytes: {cut_by_category(ranked[len(findings):kept])}"
        ]  # fmt: skip
        run = _run(report, sorted(findings, key=Finding.sort_key), category, cuts + extra)
        doc = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
        size = len(gzip.compress(dumps(doc).encode("utf-8")))
        if size <= max_gzip_bytes or not findings:
            break
        findings = findings[
            : min(len(findings) - 1, int(len(findings) * max_gzip_bytes / size * 0.95))
        ]
    return doc, cuts + extra
