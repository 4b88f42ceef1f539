"""The fleet audit's roll-up: unique repository slugs, the totals, `fleet-rollup.{json,md}`.

No Prefect calls here (the flow in :mod:`ai_conductor.flows.fleet` publishes the artifact).
Nothing written holds a git URL's credentials: codebases are shown through
``without_credentials`` and error texts are scrubbed of the raw URL.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ai_conductor._paths import expand_user
from ai_conductor._urls import without_credentials
from ai_conductor.analysis.models import Severity
from ai_conductor.errors import UsageError
from ai_conductor.flows.checkout import is_git_url
from ai_conductor.flows.fleet_models import RepoOutcome
from ai_conductor.reports.artifacts import artifact_slug
from ai_conductor.reports.markdown import cell

SEVERITIES = [s.value for s in Severity]
REPORT_FILES = (("json", "analysis.json"), ("sarif", "analysis.sarif"), ("markdown", "analysis.md"))


def repo_identity(codebase: str, branch: str | None) -> str:
    """What makes two entries the same repository: resolved path, or URL sans credentials."""
    where = without_credentials(codebase)
    if not is_git_url(codebase):
        where = str(expand_user(codebase).resolve())
    return f"{where}#{branch or ''}"


def base_name(codebase: str, name: str | None) -> str:
    if name:
        return name
    if not is_git_url(codebase):
        return expand_user(codebase).resolve().name
    tail = re.split(r"[/:]", without_credentials(codebase).rstrip("/"))[-1]
    return tail.removesuffix(".git")


def assign_slugs(entries: Sequence[tuple[str, str | None, str | None]]) -> list[str]:
    """A unique slug per (codebase, branch, name); shared names get a hash of the identity."""
    bases = [artifact_slug(base_name(codebase, name)) for codebase, _, name in entries]
    counts = Counter(bases)
    slugs = [
        base if counts[base] == 1
        else f"{base}-{hashlib.sha256(repo_identity(c, b).encode()).hexdigest()[:8]}"
        for base, (c, b, _) in zip(bases, entries, strict=True)
    ]  # fmt: skip
    twice = sorted(s for s, n in Counter(slugs).items() if n > 1)
    if twice:
        raise UsageError(f"the same repository (and branch) is listed twice: {', '.join(twice)}")
    return slugs


def scrub(text: str, codebase: str) -> str:
    """An error text without the raw codebase (a URL may carry ``user:token@``)."""
    return text.replace(codebase, without_credentials(codebase)) if codebase else text


def build_rollup(outcomes: Sequence[RepoOutcome], **fleet: Any) -> dict[str, Any]:
    """The roll-up document: ``repos``, ``totals``, ``failed`` (slugs that errored), ..."""
    done = [o for o in outcomes if o.status == "completed"]
    by_severity = {s: sum(o.by_severity.get(s, 0) for o in done) for s in SEVERITIES}
    failed = [o.slug for o in outcomes if o.status == "failed"]
    gate_failed = [o.slug for o in outcomes if o.gate == "failed"]
    totals = {
        "repos": len(outcomes), "completed": len(done), "failed": len(failed),
        "gate_failed": len(gate_failed), "findings": sum(o.findings for o in done),
        "by_severity": by_severity, "new": sum(o.new for o in done),
        "fixed": sum(o.fixed for o in done),
    }  # fmt: skip
    return {
        **fleet,
        "passed": not failed and not gate_failed,
        "repos": [o.model_dump(mode="json") for o in outcomes],
        "totals": totals,
        "failed": failed,
        "gate_failed": gate_failed,
    }


def rollup_markdown(rollup: dict[str, Any]) -> str:
    """A one-screen table of the fleet: findings by severity, history, gate, reports."""
    t = rollup["totals"]
    sev = ", ".join(f"{s} {n}" for s, n in t["by_severity"].items() if n) or "none"
    lines = [
        f"# Fleet audit: {t['repos']} repositories",
        "",
        f"{t['completed']} audited, {t['failed']} failed; {t['findings']} findings ({sev}), "
        f"{t['new']} new, {t['fixed']} fixed; gate `{rollup.get('fail_on', 'none')}`: "
        f"{t['gate_failed']} failing.",
        "",
        "| Repository | Codebase | Status | " + " | ".join(SEVERITIES) + " | New | Fixed | Gate "
        "| Reports |",
        "|" + "---|" * (len(SEVERITIES) + 7),
    ]
    for r in rollup["repos"]:
        counts = [r["by_severity"].get(s, 0) for s in SEVERITIES]
        reports = f"{r['slug']}/analysis.{{json,sarif,md}}" if r["reports"] else ""
        row = [r["name"], r["codebase"], r["status"], *counts, r["new"], r["fixed"],
               r["gate"] or "-", reports]  # fmt: skip
        lines.append("| " + " | ".join(cell(v) for v in row) + " |")
    errors = [r for r in rollup["repos"] if r["error"]]
    if errors:
        lines += ["", "## Failed repositories", ""]
        lines += [f"- **{cell(r['name'])}** ({cell(r['codebase'])}): {cell(r['error'])}"
                  for r in errors]  # fmt: skip
    return "\n".join(lines) + "\n"


def write_rollup(rollup: dict[str, Any], out_dir: Path) -> tuple[Path, Path, str]:
    """``fleet-rollup.json`` and ``fleet-rollup.md`` in ``out_dir``; returns both and the text."""
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown = rollup_markdown(rollup)
    json_path, md_path = out_dir / "fleet-rollup.json", out_dir / "fleet-rollup.md"
    json_path.write_text(json.dumps(rollup, indent=2) + "\n", encoding="utf-8")
    md_path.write_text(markdown, encoding="utf-8")
    return json_path, md_path, markdown
