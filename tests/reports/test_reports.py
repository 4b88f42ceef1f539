"""Reports: SARIF (OASIS schema + GitHub's rules), Markdown, analysis.json round trip, artifacts."""

from __future__ import annotations

import gzip
import json
import os
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ai_conductor.analysis.models import (
    AnalysisReport,
    Category,
    Finding,
    FindingStatus,
    Hotspot,
    Severity,
    Summary,
    ToolRun,
)
from ai_conductor.errors import UsageError
from ai_conductor.reports import FORMATS, render, write_report
from ai_conductor.reports.json_report import load_analysis, schema_text, to_json
from ai_conductor.reports.markdown import append_step_summary, to_markdown
from ai_conductor.reports.sarif import to_sarif
from ai_conductor.settings import Settings
from tests import _sarif

REPO = Path(__file__).resolve().parents[2]
ODD_PATH = "src/my dir/données.py"


def finding(**kw: Any) -> Finding:
    base: dict[str, Any] = {
        "tool": "ruff",
        "rule_id": "E501",
        "severity": Severity.LOW,
        "category": Category.STYLE,
        "path": "app/main.py",
        "line": 1,
        "end_line": 1,
        "message": "line too long",
        "fingerprint": "fp-" + str(kw.get("rule_id", "E501")) + str(kw.get("line", 1)),
    }
    return Finding(**{**base, **kw})


def make_report(findings: list[Finding] | None = None) -> AnalysisReport:
    now = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
    if findings is None:
        findings = [
            finding(
                tool="bandit",
                rule_id="B608",
                rule_name="hardcoded_sql_expressions",
                severity=Severity.HIGH,
                category=Category.SECURITY,
                path="app/db.py",
                line=12,
                end_line=13,
                column=5,
                end_column=40,
                message="Possible SQL injection vector through string-based query construction.",
                tags=["database", "CWE-89"],
                help_uri="https://bandit.readthedocs.io/en/latest/plugins/b608.html",
                also_reported_by=["ruff:S608"],
            ),
            finding(
                rule_id="F821",
                rule_name="undefined-name",
                severity=Severity.MEDIUM,
                category=Category.BUG,
                line=3,
                end_line=3,
                message="Undefined name `foo`",
                status=FindingStatus.EXISTING,
            ),
            finding(
                tool="radon",
                rule_id="CC",
                rule_name="cyclomatic-complexity",
                severity=Severity.MEDIUM,
                category=Category.COMPLEXITY,
                path=ODD_PATH,
                line=20,
                end_line=60,
                message="Function `parse` has complexity 17 (rank C)",
            ),
            finding(line=7, end_line=7, message="a | b table\nsecond line | end"),
        ]
    return AnalysisReport(
        generator_version="0.1.0",
        run_id="run-1",
        codebase="/tmp/My Project",
        codebase_id="/tmp/My Project",
        started_at=now,
        finished_at=now,
        focus=["security"],
        tools=[ToolRun(name="ruff", version="0.6.0", files_analyzed=3)],
        files_analyzed=3,
        summary=Summary(
            total=len(findings),
            by_severity={"high": 1, "medium": 2, "low": 1},
            by_category={"security": 1, "bug": 1, "complexity": 1, "style": 1},
            new=3,
            existing=1,
            fixed=1,
            dismissed=2,
        ),
        findings=findings,
        fixed=[finding(rule_id="F401", message="unused import os", status=FindingStatus.FIXED)],
        hotspots=[
            Hotspot(path=ODD_PATH, name="parse", line=20, complexity=17, rank="C", churn=9),
            Hotspot(path="app/db.py", name="query", line=5, complexity=8, rank="B", churn=2),
        ],
        warnings=["vulture is not installed: dead-code checks skipped"],
    )


# --- SARIF ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    return _sarif.sarif_validator()


def test_the_sarif_schema_is_oasis_and_rejects_a_broken_log(sarif_validator: Any) -> None:
    """The schema is the one OASIS published, and the validator is not a pass-everything."""
    assert sarif_validator.schema["id"] == _sarif.OASIS_ID
    doc, _ = to_sarif(make_report(), category="x")
    doc["runs"][0]["results"][0]["level"] = "fatal"  # not a SARIF level
    del doc["runs"][0]["tool"]["driver"]["name"]  # required
    messages = [e.message for e in sarif_validator.iter_errors(doc)]
    assert any("'fatal' is not one of" in m for m in messages), messages
    assert any("'name' is a required property" in m for m in messages), messages


def test_sarif_validates_against_oasis_schema(sarif_validator: Any) -> None:
    doc, warnings = to_sarif(make_report(), category="ai-conductor")
    errors = sorted(sarif_validator.iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:5])
    assert warnings == []
    empty, _ = to_sarif(make_report([]), category="x")
    assert not list(sarif_validator.iter_errors(empty))


def test_sarif_github_requirements() -> None:
    doc, _ = to_sarif(make_report(), category="nightly")
    assert doc["version"] == "2.1.0"
    assert doc["$schema"]
    (run,) = doc["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "ai-conductor"
    assert driver["informationUri"] == "https://github.com/ai-conductor/ai-conductor"
    assert run["automationDetails"]["id"] == "nightly/"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"].endswith("/")
    assert run["invocations"][0]["executionSuccessful"] is True
    rules = driver["rules"]
    assert len({r["id"] for r in rules}) == len(rules) == 4
    assert len(run["results"]) == 4
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        fps = result["partialFingerprints"]
        assert fps["primaryLocationLineHash"] == fps["aiConductor/v1"] != ""
        loc = result["locations"][0]["physicalLocation"]
        uri = loc["artifactLocation"]["uri"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert not uri.startswith("/")
        assert "://" not in uri
        assert re.fullmatch(r"[A-Za-z0-9._~/%-]+", uri), uri
        assert loc["region"]["startLine"] >= 1
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run["results"]
    }
    assert "src/my%20dir/donn%C3%A9es.py" in uris
    by_id = {r["id"]: r for r in rules}
    sql = by_id["bandit/B608"]
    assert sql["properties"]["security-severity"] == "7.5"
    assert {"security", "CWE-89", "database"} <= set(sql["properties"]["tags"])
    assert sql["helpUri"] in sql["help"]["markdown"]
    assert sql["defaultConfiguration"]["level"] == "error"
    assert "security-severity" not in by_id["ruff/F821"]["properties"]
    assert by_id["ruff/F821"]["name"] == "undefined-name"
    first = run["results"][0]
    assert first["ruleId"] == "bandit/B608"
    assert first["level"] == "error"
    assert first["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 12,
        "endLine": 13,
        "startColumn": 5,
        "endColumn": 40,
    }
    assert first["properties"]["also_reported_by"] == ["ruff:S608"]
    levels = {r["ruleId"]: r["level"] for r in run["results"]}
    assert levels["radon/CC"] == "warning"
    assert levels["ruff/E501"] == "note"


def test_sarif_caps_results_at_5000_keeping_most_severe(sarif_validator: Any) -> None:
    severities = [Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL]
    findings = [
        finding(
            rule_id=f"R{i % 7}",
            severity=severities[i % 5],
            path=f"pkg/m{i % 50}.py",
            line=i + 1,
            end_line=i + 1,
            fingerprint=f"fp{i}",
        )
        for i in range(6000)
    ]
    doc, warnings = to_sarif(make_report(findings), category="ai-conductor")
    results = doc["runs"][0]["results"]
    assert len(results) == 5000
    assert len(warnings) == 1
    assert "1000" in warnings[0]
    kept = [r["properties"]["severity"] for r in results]
    assert kept.count("info") == 200
    assert kept.count("critical") == 1200
    ranks = [Severity(s).rank for s in kept]
    assert ranks == sorted(ranks, reverse=True)


def test_sarif_drops_least_severe_to_fit_gzip_limit() -> None:
    findings = [
        finding(
            rule_id="X1",
            severity=Severity.HIGH if i < 10 else Severity.LOW,
            line=i + 1,
            end_line=i + 1,
            message=os.urandom(64).hex(),
            fingerprint=f"fp{i}",
        )
        for i in range(200)
    ]
    limit = 8_000
    doc, warnings = to_sarif(make_report(findings), category="c", max_gzip_bytes=limit)
    results = doc["runs"][0]["results"]
    assert 10 <= len(results) < 200
    assert sum(r["level"] == "error" for r in results) == 10
    assert len(gzip.compress(json.dumps(doc, indent=2).encode())) <= limit * 1.05
    assert len(warnings) == 1
    assert "gzipped" in warnings[0]


# --- Markdown ------------------------------------------------------------------------------


def test_markdown_summary() -> None:
    md = to_markdown(make_report())
    assert md.startswith("# Code audit: My Project (2025-03-04)")
    assert "| high | 1 |" in md
    assert "| medium | 2 |" in md
    assert "| critical | 0 |" in md
    assert "| security | 1 |" in md
    assert "| new | 3 |" in md
    assert "| existing | 1 |" in md
    assert "| dismissed | 2 |" in md
    assert "| fixed | 1 |" in md
    assert "a \\| b table<br>second line \\| end" in md
    assert "## Hotspots" in md
    assert "parse" in md
    assert "## Fixed since last run" in md
    assert "unused import os" in md
    assert "vulture is not installed" in md
    table_rows = [line for line in md.splitlines() if "`app/" in line]
    assert "bandit/B608" in table_rows[0]  # most severe first
    for line in md.splitlines():
        if line.startswith("| ") and "\\|" not in line:
            cells = line.count("|")
            assert cells in (3, 5, 6), line


def test_markdown_limit() -> None:
    findings = [finding(line=i + 1, end_line=i + 1) for i in range(8)]
    md = to_markdown(make_report(findings), limit=3)
    assert "... and 5 more" in md
    assert md.count("line too long") == 3


def test_append_step_summary(tmp_path: Path) -> None:
    target = tmp_path / "summary.md"
    settings = Settings(github_step_summary=target)
    assert append_step_summary("# first", settings) == target
    assert append_step_summary("# second", settings) == target
    text = target.read_text(encoding="utf-8")
    assert text.index("# first") < text.index("# second")
    assert append_step_summary("# third", Settings(github_step_summary=None)) is None


# --- analysis.json -------------------------------------------------------------------------


def test_render_and_write_every_format(tmp_path: Path) -> None:
    report = make_report()
    for fmt in FORMATS:
        out = tmp_path / "nested" / f"report.{fmt}"
        assert write_report(report, out, fmt) == []
        assert out.read_text(encoding="utf-8") == render(report, fmt)[0] + "\n"
    assert [p.name for p in (tmp_path / "nested").iterdir() if p.name.startswith(".")] == []
    with pytest.raises(UsageError, match="unknown report format"):
        render(report, "pdf")


def test_load_analysis_round_trip(tmp_path: Path) -> None:
    report = make_report()
    path = tmp_path / "analysis.json"
    path.write_text(to_json(report), encoding="utf-8")
    assert load_analysis(path) == report


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "analysis.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def test_load_analysis_rejects_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(UsageError, match="not found") as info:
        load_analysis(missing)
    assert str(missing) in str(info.value)
    assert "conductor analyze" in str(info.value)

    bad = _write(tmp_path, '{\n  "schema_version": "1.0",\n  "run_id": oops\n}')
    with pytest.raises(UsageError, match="invalid JSON") as info:
        load_analysis(bad)
    assert f"{bad}:3:" in str(info.value)
    assert "line 3" in str(info.value)

    data = json.loads(to_json(make_report()))
    with pytest.raises(UsageError, match=r"schema_version '2\.0' is not supported") as info:
        load_analysis(_write(tmp_path, {**data, "schema_version": "2.0"}))
    assert "1.x" in str(info.value)
    with pytest.raises(UsageError, match="schema_version` is missing"):
        load_analysis(_write(tmp_path, {k: v for k, v in data.items() if k != "schema_version"}))
    assert load_analysis(_write(tmp_path, {**data, "schema_version": "1.7", "new_field": 1}))

    del data["findings"][1]["path"]
    with pytest.raises(UsageError, match=r"findings\[1\]\.path: Field required") as info:
        load_analysis(_write(tmp_path, data))
    assert str(tmp_path / "analysis.json") in str(info.value)

    with pytest.raises(UsageError, match="JSON object"):
        load_analysis(_write(tmp_path, "[1, 2]"))


def test_committed_schema_matches_models() -> None:
    committed = REPO / "docs" / "analysis.schema.json"
    hint = (
        "docs/analysis.schema.json is stale; regenerate it with "
        "`python -m ai_conductor.reports.json_report --schema > docs/analysis.schema.json`"
    )
    assert committed.exists(), hint
    assert committed.read_text(encoding="utf-8") == schema_text(), hint


# --- Prefect artifacts ---------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_publish_artifacts() -> None:
    from prefect import flow
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.objects import Artifact

    from ai_conductor.reports import publish_artifacts

    @flow
    def publish() -> list[str]:
        return publish_artifacts(make_report(), key_prefix="Conductor Test")

    keys = publish()
    assert keys == ["conductor-test-analysis-my-project", "conductor-test-findings-my-project"]

    # prefect 3.8's read_artifacts sends null for every omitted filter, which the server (with
    # fastapi 0.154) rejects (422), and {} task-run filters exclude flow-level artifacts: post
    # the same query without the nulls through the sync client.
    query = {"artifacts": ArtifactFilter(key=ArtifactFilterKey(any_=keys)).model_dump(mode="json")}
    with get_client(sync_client=True) as client:
        response = client.request("POST", "/artifacts/filter", json=query)
        response.raise_for_status()
    found = Artifact.model_validate_list(response.json())
    by_key = {a.key: a for a in found}
    assert set(by_key) == set(keys)
    assert "# Code audit: My Project" in str(by_key[keys[0]].data)
    table = by_key[keys[1]].data
    rows: Any = json.loads(table) if isinstance(table, str) else table
    assert [r["rule"] for r in rows] == ["bandit/B608", "ruff/F821", "radon/CC", "ruff/E501"]
    assert rows[0] == {
        "severity": "high",
        "status": "new",
        "rule": "bandit/B608",
        "path": "app/db.py",
        "line": 12,
        "message": "Possible SQL injection vector through string-based query construction.",
    }


def test_capped_sarif_keeps_every_security_result(sarif_validator: Any) -> None:
    """Weak random for a token (low, security) outranks thousands of unused imports."""
    security = [
        finding(tool="bandit", rule_id="B311", severity=Severity.LOW, category=Category.SECURITY,
                path=f"app/tokens{i % 7}.py", line=i + 1, end_line=i + 1, fingerprint=f"s{i}")
        for i in range(300)
    ]  # fmt: skip
    noise = [
        finding(rule_id="F401", severity=Severity.MEDIUM if i % 3 else Severity.HIGH,
                category=Category.MAINTAINABILITY if i % 2 else Category.STYLE,
                path=f"pkg/m{i % 40}.py", line=i + 1, end_line=i + 1, fingerprint=f"n{i}")
        for i in range(5700)
    ]  # fmt: skip
    doc, warnings = to_sarif(make_report(security + noise), category="ai-conductor")
    sarif_validator.validate(doc)
    results = doc["runs"][0]["results"]
    assert len(results) == 5000
    kept = {r["partialFingerprints"]["aiConductor/v1"] for r in results}
    assert {f"s{i}" for i in range(300)} <= kept
    assert sum(r["properties"]["severity"] == "high" for r in results) == 1900  # then severity
    dropped = Counter(f.category.value for f in noise if f.fingerprint not in kept)
    assert sum(dropped.values()) == 1000
    by_category = ", ".join(f"{c.value} {dropped[c.value]}" for c in Category if dropped[c.value])
    (warning,) = warnings
    assert warning.startswith("SARIF: 1000 findings left out, GitHub reads at most 5000")
    assert f"{by_category} (every security finding kept)" in warning
    notes = doc["runs"][0]["invocations"][0]["toolExecutionNotifications"]
    assert warning in [n["message"]["text"] for n in notes]


def test_markdown_cut_keeps_security_first_and_says_what_it_cut() -> None:
    findings = [finding(line=i + 1, end_line=i + 1, severity=Severity.HIGH) for i in range(8)]
    findings.append(finding(tool="bandit", rule_id="B311", severity=Severity.LOW,
                            category=Category.SECURITY, line=99, end_line=99))  # fmt: skip
    md = to_markdown(make_report(findings), limit=3)
    rows = [line for line in md.splitlines() if "line too long" in line or "B311" in line]
    assert "bandit/B311" in rows[0]
    assert "... and 6 more: style 6 (every security finding kept)" in md


def test_markdown_and_sarif_show_each_tools_coverage() -> None:
    from ai_conductor.analysis.models import FileFailure

    report = make_report()
    reason = "syntax Python 3.11 cannot parse"
    report.tools = [
        ToolRun(name="ruff", version="0.17.6", files_analyzed=3),
        ToolRun(name="bandit", version="1.9.4", python="3.11.7", files_analyzed=3,
                files_failed=2, failures=[FileFailure(path=p, reason=reason)
                                          for p in ("a.py", ODD_PATH)]),
    ]  # fmt: skip
    md = to_markdown(report)
    assert "| ruff | 0.17.6 |  | 3 of 3 read | 0 |" in md
    assert f"| bandit | 1.9.4 | 3.11.7 | 1 of 3 read, 2 failed: {reason} (2) | 0 |" in md
    assert f"- `{ODD_PATH}`: {reason}" in md
    doc, _ = to_sarif(report, category="c")
    invocation = doc["runs"][0]["invocations"][0]
    assert invocation["executionSuccessful"] is True  # the tools ran; coverage is a warning
    notes = invocation["toolExecutionNotifications"]
    by_text = {n["message"]["text"]: n for n in notes}
    assert by_text["ruff: 3 of 3 read"]["level"] == "note"
    summary = by_text[f"bandit (Python 3.11.7): 1 of 3 read, 2 failed: {reason} (2)"]
    assert (summary["level"], summary["properties"]["coverage"]) == ("warning", 33.33)
    files = [n for n in notes if n.get("locations")]
    uris = [n["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for n in files]
    assert uris == ["a.py", "src/my%20dir/donn%C3%A9es.py"]
