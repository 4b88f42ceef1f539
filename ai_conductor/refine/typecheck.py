"""mypy's type errors as findings (tool ``mypy``, rule id = mypy's error code).

Severity: an error in annotated code contradicts what the developer declared, and is often a
real bug at run time (``arg-type``, ``union-attr``, ``attr-defined``, ...): category bug,
severity medium (not high: mypy without the project's stubs has false positives). Annotation
hygiene (``no-untyped-def``, ``type-arg``, ``import-untyped``, ...) is maintainability, low.
mypy reads the project's own configuration; its cache lives under CONDUCTOR_HOME, never in the
codebase; the project's environment (the one its tests run in, see
:mod:`ai_conductor.environment`) resolves third-party imports through ``--python-executable``.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

from packaging.version import InvalidVersion, Version

from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.analysis.normalize import fingerprint_all
from ai_conductor.analysis.tools import binary_version, find_binary, relative
from ai_conductor.refine.models import TypeReport
from ai_conductor.settings import Settings

MYPY_TIMEOUT = 900.0
FLAGS = [
    "--ignore-missing-imports", "--no-error-summary", "--show-column-numbers",
    "--hide-error-context", "--no-color-output", "--show-error-codes", "--no-pretty",
]  # fmt: skip
HYGIENE = frozenset({
    "no-untyped-def", "no-untyped-call", "type-arg", "var-annotated", "annotation-unchecked",
    "unused-ignore", "redundant-cast", "no-any-return", "no-any-unimported", "import-untyped",
    "import-not-found", "import", "explicit-override", "unused-awaitable", "redundant-expr",
})  # fmt: skip
_TEXT = re.compile(r"^(.+?):(\d+):(\d+): (error|note): (.*?)(?:  \[([a-z0-9-]+)\])?$")


def _config(root: Path) -> tuple[bool, bool]:
    """(the project configures mypy, that configuration names what to check)."""
    keys = ("files", "packages", "modules")
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        try:
            table = tomllib.loads(pyproject.read_text("utf-8")).get("tool", {}).get("mypy")
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            table = None
        if isinstance(table, dict):
            return True, any(k in table for k in keys)
    for name in ("mypy.ini", ".mypy.ini", "setup.cfg"):
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read(root / name, encoding="utf-8")
        except (configparser.Error, UnicodeDecodeError):
            continue
        if parser.has_section("mypy"):
            return True, any(parser.has_option("mypy", k) for k in keys)
    return False, False


def _argv(
    binary: str, root: Path, json_out: bool, settings: Settings, python: str | None
) -> list[str]:
    cache = settings.home_dir / "cache" / "mypy" / hashlib.sha256(bytes(root)).hexdigest()[:16]
    argv = [binary, *FLAGS, "--cache-dir", str(cache), *(["-O", "json"] if json_out else [])]
    if python is not None:
        argv += ["--python-executable", python]
    configured, has_targets = _config(root)
    if not configured:
        argv += ["--exclude", r"(^|/)(venv|env|build|dist)/"]
    return argv if has_targets else [*argv, "."]


def _parse(line: str, json_out: bool) -> dict[str, Any] | None:
    if json_out:
        try:
            item = json.loads(line)
        except json.JSONDecodeError:
            return None
        return item if isinstance(item, dict) else None
    m = _TEXT.match(line)
    if m is None:
        return None
    file, row, col, severity, message, code = m.groups()
    return {"file": file, "line": int(row), "column": int(col) - 1, "severity": severity,
            "message": message, "code": code}  # fmt: skip


def _finding(item: dict[str, Any], root: Path) -> Finding:
    code = str(item.get("code") or "misc")
    line, column = int(item["line"]), int(item.get("column") or 0) + 1  # mypy's JSON: 0-based
    end_line = int(item.get("end_line") or line)
    hint = f" ({item['hint'].splitlines()[0]})" if item.get("hint") else ""
    return Finding(
        tool="mypy", rule_id=code, rule_name=code,
        severity=Severity.LOW if code in HYGIENE else Severity.MEDIUM,
        category=Category.MAINTAINABILITY if code in HYGIENE else Category.BUG,
        path=relative(root, str(item["file"])).removeprefix("./"), line=line,
        end_line=max(end_line, line), column=max(column, 1), message=str(item["message"]) + hint,
        tags=["types"], help_uri=f"https://mypy.readthedocs.io/en/stable/error_code_list.html#{code}",
    )  # fmt: skip


def type_report(root: Path, settings: Settings, python: str | None = None) -> TypeReport:
    """Run mypy on ``root``; a missing mypy or a mypy that cannot check the code is a note.

    ``python``: the project environment's interpreter (third-party imports resolve there);
    None: mypy's own environment."""
    binary = find_binary("mypy")
    if binary is None:
        return TypeReport(available=False, note="mypy not available: pip install mypy")
    version = binary_version(binary, "mypy")
    try:
        json_out = version is not None and Version(version) >= Version("1.11")
    except InvalidVersion:
        json_out = False
    try:
        done = subprocess.run(
            _argv(binary, root, json_out, settings, python), cwd=root, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, encoding="utf-8", errors="replace",
            timeout=MYPY_TIMEOUT, check=False,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return TypeReport(available=True, version=version, note=f"mypy could not run: {exc}")
    findings, other = [], []
    for line in (done.stdout + "\n" + done.stderr).splitlines():
        item = _parse(line, json_out)
        if item is None:
            other += [line.strip()] if line.strip() else []
        elif int(item["line"]) < 1:  # no location: e.g. duplicate module names
            other.append(str(item["message"]))
        elif item.get("severity") == "error":
            findings.append(_finding(item, root))
    fingerprint_all(findings, root)
    by_code: dict[str, int] = {}
    for f in sorted(findings, key=Finding.sort_key):
        by_code[f.rule_id] = by_code.get(f.rule_id, 0) + 1
    note = ""
    if done.returncode not in (0, 1):  # 2: mypy stopped (a blocking error, no files, bad config)
        note = f"mypy exited {done.returncode}" + (": " + "; ".join(other) if other else "")
    return TypeReport(
        available=True, version=version, note=note[:1000], errors=len(findings),
        by_code=dict(sorted(by_code.items())), findings=sorted(findings, key=Finding.sort_key),
    )  # fmt: skip
