"""The checks every Python stack gets: dependencies (deptry, version bounds), Python version
targets, and configuration smells (credentials in committed config, a committed ``.env``).

Python's end-of-life dates are data (``PYTHON_EOL``) compared with today's date, so the review
ages correctly; add a row when a new version is released.
"""

from __future__ import annotations

import json
import re
import tempfile
from dataclasses import astuple
from datetime import date
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.analysis.tools import find_binary, run_command
from ai_conductor.environment.project import module_names
from ai_conductor.errors import AnalysisToolError
from ai_conductor.refine.deptry_review import Verdict, review
from ai_conductor.refine.project import LOWER_OPS, NOT_RUNTIME, Project, finding

PYTHON_EOL: dict[tuple[int, int], date] = {
    (3, 6): date(2021, 12, 23), (3, 7): date(2023, 6, 27), (3, 8): date(2024, 10, 7),
    (3, 9): date(2025, 10, 31), (3, 10): date(2026, 10, 31), (3, 11): date(2027, 10, 31),
    (3, 12): date(2028, 10, 31), (3, 13): date(2029, 10, 31), (3, 14): date(2030, 10, 31),
}  # fmt: skip
"""Security support ends (devguide.python.org/versions); later versions count as supported."""
MODULE_NAMES = {"psycopg2-binary": "psycopg2", "psycopg-binary": "psycopg",
                "weaviate-client": "weaviate", "pyyaml": "yaml", "python-dotenv": "dotenv",
                "beautifulsoup4": "bs4", "pillow": "PIL", "scikit-learn": "sklearn"}  # fmt: skip
"""Import names deptry cannot guess when the package is not installed beside it."""
DEPTRY = {  # code -> rule, severity, category, what, recommendation
    "DEP001": ("STACK-DEP-MISSING", Severity.MEDIUM, Category.BUG,
               "{m!r} is imported but not declared as a dependency",
               "declare it (with a lower bound) in {file}, or in an extra if it is optional"),
    "DEP002": ("STACK-DEP-UNUSED", Severity.LOW, Category.MAINTAINABILITY,
               "{m!r} is declared but never imported",
               "remove it; if it is used without an import (a command-line tool, a database "
               "driver named in a URL, a plugin), list it in [tool.deptry.per_rule_ignores] "
               "DEP002"),
    "DEP003": ("STACK-DEP-TRANSITIVE", Severity.MEDIUM, Category.BUG,
               "{m!r} is imported but only installed as another package's dependency",
               "declare it directly in {file}: the other package may drop it"),
    "DEP004": ("STACK-DEP-DEV-IMPORT", Severity.MEDIUM, Category.BUG,
               "{m!r} is imported by shipped code but declared as a development dependency",
               "move it to the runtime dependencies, or keep the import in tests and tooling"),
}  # fmt: skip
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<user>[^\s:/@'\"]+):(?P<pw>[^\s@/'\"]+)@(?P<host>[^\s/'\"?]+)",
    re.IGNORECASE,
)  # fmt: skip
MAX_CONFIG_BYTES = 1_000_000
CONFIG_SUFFIXES = (".yaml", ".yml", ".toml", ".ini", ".cfg", ".env", ".conf")
_EXAMPLE = re.compile(r"example|sample|template|dist$", re.IGNORECASE)


def _deptry_argv(p: Project, binary: str, out: Path) -> list[str]:
    """deptry's command line; the project's ``[tool.deptry]`` settings win over ours."""
    argv = [binary, ".", "--json-output", str(out)]
    config = p.pyproject.get("tool", {}).get("deptry", {})
    if "package_module_name_map" not in config:
        known = {k: [v] for k, v in MODULE_NAMES.items()} | (
            module_names(p.python) if p.python else {}
        )  # what the project's environment has installed wins
        names = ",".join(f"{k}={'|'.join(v)}" for k, v in sorted(known.items()))
        argv += ["--package-module-name-map", names]
    extras = p.pyproject.get("project", {}).get("optional-dependencies", {})
    dev = [name for name in extras if NOT_RUNTIME.search(name)]  # [dev], [test], [docs] extras
    if dev and "pep621_dev_dependency_groups" not in config:
        argv += ["--pep621-dev-dependency-groups", ",".join(dev)]
    return argv + _first_party(p, config)


def _first_party(p: Project, config: dict[str, Any]) -> list[str]:
    """The project's own packages in a ``src/`` layout (deptry sees only ``src`` itself)."""
    src = p.root / "src"
    if "known_first_party" in config or not src.is_dir() or src.is_symlink():
        return []
    names = sorted(
        c.stem if c.is_file() else c.name
        for c in src.iterdir()
        if (c.is_file() and c.suffix == ".py" and c.stem.isidentifier())
        or (c.is_dir() and c.name.isidentifier() and any(c.glob("*.py")))
    )
    return ["--known-first-party", ",".join(names)] if names else []


def _run_deptry(p: Project) -> list[dict[str, Any]]:
    binary = find_binary("deptry")
    if binary is None:
        p.warnings.append(
            "deptry is not installed (pip install 'ai-conductor[refine]'): "
            "missing, unused and transitive dependencies were not checked"
        )
        return []
    if not p.texts:
        p.warnings.append("no pyproject.toml or requirements*.txt: no dependencies to review")
        return []
    with tempfile.TemporaryDirectory(prefix="conductor-deptry-") as tmp:
        out = Path(tmp) / "deptry.json"
        try:
            run_command("deptry", _deptry_argv(p, binary, out), cwd=p.root, ok_codes=(0, 1))
            items = json.loads(out.read_text(encoding="utf-8"))
        except (AnalysisToolError, OSError, json.JSONDecodeError) as exc:
            p.warnings.append(f"deptry could not review the dependencies: {str(exc)[:500]}")
            return []
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def check_deptry(p: Project) -> list[Finding]:
    found, seen = [], set()
    versions = minors(p)
    for item in _run_deptry(p):
        code, module, loc = item["error"]["code"], str(item["module"]), item["location"]
        default = Verdict(*DEPTRY.get(code, (
            f"STACK-DEP-{code}", Severity.LOW, Category.MAINTAINABILITY, item["error"]["message"],
            "see https://deptry.com/rules-violations/")))  # fmt: skip
        path, line = str(loc["file"]).removeprefix("./"), loc.get("line")
        verdict = review(code, module, p.root, path, line, versions, default)
        if verdict is None:  # meant: a newer Python's module under a version check, a test, ...
            continue
        rule, severity, category, what, rec = astuple(verdict)
        if line is None:  # a declaration: point at it
            dep = next(iter(p.declared(module)), None)
            path, line = (dep.file, dep.line) if dep else (path, p.line_of(path, re.escape(module)))
        if (rule, path, line, module) in seen:  # e.g. one package declared in two extras
            continue
        seen.add((rule, path, line, module))
        fmt = {"m": module, "file": p.deps_file()}
        found.append(finding(rule, severity, category, path, int(line), what.format(**fmt),
                             rec.format(**fmt), ("dependencies", code)))  # fmt: skip
    return found


def check_unpinned(p: Project) -> list[Finding]:
    return [
        finding("STACK-DEP-UNPINNED", Severity.LOW, Category.MAINTAINABILITY, d.file, d.line,
                f"{str(d.req)!r} has no lower version bound",
                f"declare the oldest version you test with, e.g. '{d.req.name}>=X.Y': without it "
                "a resolver may pick any release, however old", ("dependencies",))
        for d in p.deps if d.req.url is None and not d.bounds(LOWER_OPS)
    ]  # fmt: skip


def minors(p: Project) -> list[tuple[int, int]] | None:
    """Python 3 versions ``requires-python`` admits (None when it is missing or unreadable)."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    raw = p.pyproject.get("project", {}).get("requires-python")
    try:
        spec = SpecifierSet(str(raw)) if raw else None
    except InvalidSpecifier:
        return None
    if spec is None:
        return None
    return [(3, m) for m in range(40)
            if any(spec.contains(f"3.{m}.{x}", prereleases=True) for x in (0, 99))]  # fmt: skip


def check_python(p: Project, today: date | None = None) -> list[Finding]:
    if "project" not in p.pyproject:
        return []
    today = today or date.today()
    supported = min((v for v, eol in PYTHON_EOL.items() if eol >= today), default=(3, 14))
    floor = f">={supported[0]}.{supported[1]}"
    versions = minors(p)
    if versions is None:
        return [finding("STACK-PYTHON-UNSET", Severity.LOW, Category.MAINTAINABILITY,
                        "pyproject.toml", p.line_of("pyproject.toml", r"^\[project\]"),
                        "requires-python is missing or unreadable: installers cannot tell which "
                        "Pythons the project supports", f"set requires-python = \"{floor}\"",
                        ("python-version",))]  # fmt: skip
    dead = [v for v in versions if v in PYTHON_EOL and PYTHON_EOL[v] < today]
    if not dead:
        return []
    names = ", ".join(f"{a}.{b} (end of life {PYTHON_EOL[(a, b)]})" for a, b in dead)
    line = p.line_of("pyproject.toml", r"requires-python")
    return [finding("STACK-PYTHON-EOL", Severity.MEDIUM, Category.MAINTAINABILITY,
                    "pyproject.toml", line, f"requires-python admits end-of-life Python: {names}",
                    f"raise it to \"{floor}\" and drop code kept for older versions",
                    ("python-version",))]  # fmt: skip


def check_targets(p: Project) -> list[Finding]:
    versions = minors(p)
    if not versions:
        return []
    low, tool = versions[0], p.pyproject.get("tool", {})
    ruff = str(tool.get("ruff", {}).get("target-version", ""))
    mypy = str(tool.get("mypy", {}).get("python_version", ""))
    found = []
    for name, key, value in (("ruff", "target-version", ruff), ("mypy", "python_version", mypy)):
        m = re.fullmatch(r"py(\d)(\d+)|(\d)\.(\d+)", value)
        if m is None:
            continue
        target = tuple(int(g) for g in m.groups() if g is not None)
        if target == low:
            continue
        newer = target > low
        found.append(finding(
            "STACK-TARGET-MISMATCH", Severity.MEDIUM if newer else Severity.LOW,
            Category.BUG if newer else Category.MAINTAINABILITY, "pyproject.toml",
            p.line_of("pyproject.toml", rf"^\s*{key}\s*="),
            f"{name} {key} {value!r} is {'newer' if newer else 'older'} than the oldest Python "
            f"requires-python admits ({low[0]}.{low[1]})",
            f"set it to the oldest supported version ({low[0]}.{low[1]}), so {name} "
            + ("does not accept code that fails there" if newer else "checks what you ship"),
            ("python-version",)))  # fmt: skip
    return found


def check_secrets(p: Project) -> list[Finding]:
    found = []
    for rel in p.files:
        name = Path(rel).name
        if not (name.endswith(CONFIG_SUFFIXES) or name.startswith(".env")):
            continue
        path = p.root / rel
        try:
            if path.is_symlink() or path.stat().st_size > MAX_CONFIG_BYTES:
                continue
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for n, text in enumerate(lines, 1):
            for m in _URL_CREDENTIALS.finditer(text):
                if m["pw"].startswith(("$", "{", "%", "<")):
                    continue  # ${DB_PASSWORD}, {{ vault }}, %(pw)s, <password>: placeholders
                shown = f"{m['scheme']}://{m['user']}:***@{m['host']}"
                found.append(finding(
                    "STACK-SECRET-IN-CONFIG",
                    Severity.MEDIUM if _EXAMPLE.search(name) else Severity.HIGH,
                    Category.SECURITY, rel, n, f"a URL with an inline password in committed "
                    f"configuration ({shown})", "read it from the environment or a secret store "
                    "(e.g. ${DATABASE_URL} or a Prefect Secret block), and rotate the password",
                    ("secrets", "CWE-798")))  # fmt: skip
    return found


def check_env_file(p: Project) -> list[Finding]:
    if not (p.root / ".git").exists():
        return []
    return [
        finding("STACK-ENV-COMMITTED", Severity.HIGH, Category.SECURITY, rel, 1,
                f"{rel} is committed (or not ignored by git); .env files hold local secrets",
                f"git rm --cached {rel}, add it to .gitignore, commit a {rel}.example without "
                "values instead, and rotate what it contained", ("secrets", "CWE-538"))
        for rel in p.files
        if re.fullmatch(r"(.*/)?\.env(\.[^/]+)?", rel) and not _EXAMPLE.search(rel)
    ]  # fmt: skip
