"""taint: data flow from request data to dangerous sinks, by Semgrep CE's taint engine.

The rules are the project's own (``ai_conductor/analysis/taint/``). The engine is
``semgrep-core``, the OCaml core of Semgrep CE, called directly with a targets file: its JSON
keeps the source -> sink trace (``semgrep scan --json`` drops it without a login) and it starts
in a fraction of the Python CLI's time. semgrep lives in its own environment (see
``ai_conductor.analysis.taint.install``), so this module never imports it.

Semgrep CE is intra-procedural: results depend on one file only (``per_file``), so they are
cached per file under the semgrep version and the rules' digest. What semgrep-core could not
analyse counts against the tool's coverage (``taint_output``); a call that fails (a crash, the
time limit, rules it rejects) fails its own files only, and the run is not cached.
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

from ai_conductor.analysis.taint import reaches_sinks, reads_requests, rules_digest, semgrep_rules
from ai_conductor.analysis.tools import batches, find_binary, run_command, version_output
from ai_conductor.analysis.tools.base import ToolResult
from ai_conductor.analysis.tools.taint_output import parse_output, trace
from ai_conductor.errors import AnalysisToolError

__all__ = ["TaintTool", "core_argv", "parse_output", "plan", "semgrep_core", "trace"]

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
            parsed = parse_output(out, root, batch)
        except AnalysisToolError as exc:  # this batch only: its files failed, retried next run
            short = " ".join(str(exc).split())[:200]
            into.failures.update(dict.fromkeys(batch, f"taint failed on its batch: {short}"))
            into.errors.append(f"a semgrep-core call on {len(batch)} files failed: {short}")
            return
        into.findings.extend(parsed.findings)
        into.failures.update(parsed.failures)
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
