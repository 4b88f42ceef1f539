"""taint: data flow from request data to dangerous sinks, by Semgrep CE's taint engine.

The rules are the project's own (``ai_conductor/analysis/taint/``). The engine is
``semgrep-core``, the OCaml core of Semgrep CE, called directly with a targets file: its JSON
keeps the source -> sink trace (``semgrep scan --json`` drops it without a login) and it starts
in a fraction of the Python CLI's time. semgrep lives in its own environment (see
``ai_conductor.analysis.taint.install``), so this module never imports it.

Semgrep CE is intra-procedural: results depend on one file only (``per_file``), so they are
cached per file under the semgrep version and the rules' digest.
"""

from __future__ import annotations

import functools
import json
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Category, Finding, TraceStep
from ai_conductor.analysis.rules import tags_for
from ai_conductor.analysis.taint import (
    RuleInfo,
    reaches_sinks,
    reads_requests,
    rule_infos,
    rules_digest,
    semgrep_rules,
)
from ai_conductor.analysis.tools import (
    batches,
    find_binary,
    relative,
    run_command,
    version_output,
)
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.errors import AnalysisToolError

INSTALL_HINT = (
    "taint analysis was skipped: semgrep is not installed (it needs its own environment: "
    "python -m ai_conductor.analysis.taint.install, or semgrep on PATH); path traversal, XSS, "
    "open redirect, XXE, LDAP/XPath injection, cookie flags and trust-boundary checks did not run"
)
RULE_TIMEOUT_S = 5
"""Per file and rule, like semgrep's own default; a file that times out is reported."""
BATCH = 250
"""Files per semgrep-core call: bounds each call's time (and what a failed call costs)."""


def semgrep_core() -> str | None:
    """``semgrep-core`` beside this interpreter or on PATH, else inside the environment of
    the ``semgrep`` launcher found there (a pipx or side-environment install)."""
    found = find_binary("semgrep-core")
    if found:
        return found
    launcher = find_binary("semgrep")
    if launcher is None:
        return None
    env = Path(launcher).resolve().parent.parent
    cores = sorted(env.glob("lib/python3*/site-packages/semgrep/bin/semgrep-core"))
    return str(cores[0]) if cores else None


@functools.lru_cache(maxsize=8)
def core_version(binary: str) -> str | None:
    """``semgrep-core version: 1.182.0 (hash)`` -> ``1.182.0``."""
    match = re.search(r"version:?\s*(\d[\w.+-]*)", version_output(binary, "-version"))
    return match[1] if match else None


@dataclass
class TaintTool:
    options: Mapping[str, Any] = field(default_factory=dict)
    """Unused: the rules are the package's own."""
    name: str = field(default="taint", init=False)
    per_file: bool = field(default=True, init=False)
    parallel: bool = field(default=False, init=False)
    """semgrep-core runs its own threads (``-j``)."""
    install_hint: str = field(default=INSTALL_HINT, init=False)

    def version(self) -> str | None:
        binary = semgrep_core()
        return core_version(binary) if binary else None

    def config_key(self) -> str:
        return f"rules={rules_digest()}"

    def run(self, root: Path, files: list[str]) -> ToolResult:
        binary = semgrep_core()
        if binary is None:
            raise AnalysisToolError(INSTALL_HINT)
        result = ToolResult()
        with tempfile.TemporaryDirectory(prefix="conductor-taint-") as tmp:
            for number, (groups, targets) in enumerate(sorted(plan(root, files).items())):
                rules = Path(tmp, f"rules-{number}.json")
                rules.write_text(semgrep_rules(groups), encoding="utf-8")
                for batch in batches(targets, BATCH):
                    self._run_batch(binary, rules, Path(tmp), root, batch, result)
        return result

    def _run_batch(
        self, binary: str, rules: Path, tmp: Path, root: Path, batch: list[str], into: ToolResult
    ) -> None:
        targets = tmp / "targets.json"
        targets.write_text(targets_file(batch), encoding="utf-8")
        try:
            out = run_command("semgrep-core", core_argv(binary, rules, targets), cwd=root)
        except AnalysisToolError as exc:  # this batch only: retried next run
            into.errors.extend(f"taint could not analyse {f}: {exc}" for f in batch)
            return
        parsed = parse_output(out, root)
        into.findings.extend(parsed.findings)
        into.errors.extend(parsed.errors)


def plan(root: Path, files: list[str]) -> dict[str, list[str]]:
    """Which rule groups run on which files (``web+search+reach`` -> files): one semgrep-core
    call per combination parses each file once."""
    by_groups: dict[str, list[str]] = {}
    for rel in files:
        text = _read(root / rel)
        wanted = ["search"]
        if text is None or reads_requests(text):
            wanted.insert(0, "web")
        if text is None or reaches_sinks(text):
            wanted.append("reach")
        by_groups.setdefault("+".join(wanted), []).append(rel)
    return by_groups


def core_argv(binary: str, rules: Path, targets: Path) -> list[str]:
    """The semgrep-core command line of one call (the benchmark runs the same)."""
    return [binary, "-rules", str(rules), "-targets", str(targets), "-json",
            "-j", str(os.cpu_count() or 1), "-timeout", str(RULE_TIMEOUT_S),
            "-timeout_threshold", "3", "-fast"]  # fmt: skip


def targets_file(files: list[str]) -> str:
    """semgrep-core's targets file (its ``Targets`` type: paths relative to the codebase)."""
    return json.dumps(_targets(files))


def _read(path: Path) -> str | None:
    """The source, or None when unreadable (every rule then runs: semgrep-core reports it)."""
    try:
        return path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None


def _targets(files: list[str]) -> list[Any]:
    """semgrep-core's targets file (its ``Targets`` type: paths relative to the codebase)."""
    return ["Targets", [
        ["CodeTarget", {"path": {"fpath": rel, "ppath": "/" + rel}, "analyzer": "python",
                        "products": ["sast"]}]
        for rel in files
    ]]  # fmt: skip


def parse_output(out: str, root: Path) -> ToolResult:
    """Findings and per-file errors of semgrep-core's ``-json`` output (progress dots first)."""
    start = out.find("{")
    try:
        data = json.loads(out[start:]) if start >= 0 else None
        if not isinstance(data, dict):
            raise ValueError("no JSON object")
        result = ToolResult()
        infos = rule_infos()
        for error in data.get("errors", []):
            _error(error, root, result)
        for item in data["results"]:
            result.findings.append(_finding(root, item, infos[str(item["check_id"])]))
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise AnalysisToolError(f"semgrep-core printed output we cannot read: {exc!r}") from exc
    return result


def _error(error: Mapping[str, Any], root: Path, result: ToolResult) -> None:
    """A per-file error (timeout, unparsable file) is recorded; one about the rules or the
    targets file means this tool is broken and raises. Warnings (partial parsing) are not
    errors: the file was analysed."""
    where = (error.get("location") or {}).get("path")
    kind = str(error.get("error_type", "error"))
    message = (str(error.get("message") or kind).splitlines() or [kind])[0]
    if where is None or "Rule" in kind or kind == "Fatal error":
        raise AnalysisToolError(f"semgrep-core rejected the taint rules or targets: {message}")
    if str(error.get("severity", "error")).lower() == "error":
        result.errors.append(f"taint could not analyse {relative(root, str(where))}: {message}")


def _finding(root: Path, item: Mapping[str, Any], info: RuleInfo) -> Finding:
    extra = item.get("extra") or {}
    start, end = item["start"], item.get("end") or item["start"]
    line = max(1, int(start["line"]))
    category = Category.SECURITY
    number = info.cwe.removeprefix("CWE-")
    cwe = [info.cwe] if info.cwe else []
    return Finding(
        tool="taint",
        rule_id=info.id,
        rule_name=info.cwe_title,
        severity=info.severity,
        category=category,
        path=relative(root, str(item["path"])),
        line=line,
        end_line=max(line, int(end["line"])),
        column=max(1, int(start.get("col", 1))),
        end_column=int(end["col"]) if "col" in end else None,
        message=str(extra.get("message", info.id)).strip(),
        tags=sorted({*tags_for("taint", info.id, category), *cwe}),
        help_uri=f"https://cwe.mitre.org/data/definitions/{number}.html" if cwe else None,
        trace=trace(root, extra.get("dataflow_trace")),
    )


def _loc(root: Path, kind: str, loc: Mapping[str, Any], code: str) -> TraceStep:
    start, end = loc["start"], loc.get("end") or loc["start"]
    return TraceStep(
        kind=kind, path=relative(root, str(loc["path"])), line=max(1, int(start["line"])),
        column=max(1, int(start.get("col", 1))), end_line=int(end["line"]),
        end_column=int(end["col"]) if "col" in end else None, code=code,
    )  # fmt: skip


def _point(value: Any) -> tuple[Mapping[str, Any], str] | None:
    """The (location, code) of a ``["CliLoc", [loc, code]]`` or ``["CliCall", ...]`` node."""
    if not isinstance(value, list) or len(value) != 2:
        return None
    tag, body = value
    if tag == "CliLoc":
        return body[0], str(body[1])
    if tag == "CliCall":  # [[call location, code], intermediate vars, inner node]
        return body[0][0], str(body[0][1])
    return None


def trace(root: Path, flow: Mapping[str, Any] | None) -> list[TraceStep]:
    """Source, intermediate variables and sink of semgrep's ``dataflow_trace``."""
    if not flow:
        return []
    steps: list[TraceStep] = []
    source = _point(flow.get("taint_source"))
    if source:
        steps.append(_loc(root, "source", *source))
    for var in flow.get("intermediate_vars") or []:
        steps.append(_loc(root, "step", var["location"], str(var.get("content", ""))))
    sink = _point(flow.get("taint_sink"))
    if sink:
        steps.append(_loc(root, "sink", *sink))
    return steps
