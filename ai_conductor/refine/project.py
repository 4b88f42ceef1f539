"""What a project declares: pyproject.toml and requirements*.txt, parsed once for every check.

Dependencies come from ``[project] dependencies`` (runtime), ``[project.optional-dependencies]``
and ``[dependency-groups]`` (not runtime), and ``requirements*.txt`` / ``requirements/*.txt``
(runtime unless the file name says dev, test, lint or doc). Poetry's own tables are not read.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ai_conductor._codebase import SKIP_DIRS, git_files
from ai_conductor.analysis.models import Category, Finding, Severity

NOT_RUNTIME = re.compile(r"dev|test|lint|doc|type|ci", re.IGNORECASE)
LOWER_OPS = frozenset({">=", ">", "==", "~=", "==="})
UPPER_OPS = frozenset({"<", "<=", "==", "~=", "==="})


@dataclass(frozen=True)
class Dep:
    """One declared requirement and where it is declared."""

    name: str
    """Canonical name (``psycopg2-binary``, ``weaviate-client``)."""
    req: Requirement
    file: str
    line: int
    runtime: bool

    def bounds(self, ops: frozenset[str]) -> list[Version]:
        found = []
        for spec in self.req.specifier:
            if spec.operator in ops:
                try:
                    found.append(Version(spec.version.removesuffix(".*")))
                except InvalidVersion:
                    continue
        return found

    def admits_major(self, major: int) -> bool:
        """Some ``major.x`` release satisfies the specifier (an empty one admits everything)."""
        own = [s.version for s in self.req.specifier if s.version.startswith(f"{major}.")]
        tries = [f"{major}.{n}.{p}" for n in range(60) for p in (0, 99)] + own
        return any(self.req.specifier.contains(v, prereleases=True) for v in tries)


@dataclass
class Project:
    root: Path
    pyproject: dict[str, Any] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    """Lines of the files read (pyproject.toml, requirements files), by relative path."""
    deps: list[Dep] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    """Every file of the codebase (git: tracked or not ignored), relative POSIX paths."""
    warnings: list[str] = field(default_factory=list)
    python: str | None = None
    """The project environment's interpreter (deptry learns import names from it)."""

    def declared(self, *names: str, runtime_only: bool = False) -> list[Dep]:
        wanted = {canonicalize_name(n) for n in names}
        return [d for d in self.deps if d.name in wanted and (d.runtime or not runtime_only)]

    def line_of(self, path: str, pattern: str) -> int:
        """First line of ``path`` matching the regex ``pattern``, else 1."""
        rx = re.compile(pattern)
        return next((i for i, t in enumerate(self.texts.get(path, []), 1) if rx.search(t)), 1)

    def deps_file(self) -> str:
        """Where a missing dependency should be declared."""
        if "pyproject.toml" in self.texts:
            return "pyproject.toml"
        return next((p for p in self.texts if p.startswith("requirements")), "pyproject.toml")


def finding(
    rule: str, severity: Severity, category: Category, path: str, line: int, what: str,
    recommendation: str, tags: tuple[str, ...] = (),
) -> Finding:  # fmt: skip
    """A ``STACK-*`` finding whose message says what is wrong, then what to do."""
    return Finding(
        tool="stack", rule_id=rule, rule_name=rule.removeprefix("STACK-").lower(),
        severity=severity, category=category, path=path, line=max(line, 1),
        end_line=max(line, 1), message=f"{what}. Recommendation: {recommendation}",
        tags=["stack", *tags],
    )  # fmt: skip


def _add(project: Project, raw: str, path: str, line: int, runtime: bool) -> None:
    try:
        req = Requirement(raw)
    except InvalidRequirement:
        project.warnings.append(f"{path}:{line}: cannot parse the requirement {raw!r}")
        return
    project.deps.append(Dep(canonicalize_name(req.name), req, path, line, runtime))


def _table(parent: dict[str, Any], key: str) -> dict[str, Any]:
    value = parent.get(key, {})
    return value if isinstance(value, dict) else {}


def _pyproject(project: Project) -> None:
    path = project.root / "pyproject.toml"
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8", errors="replace")
    project.texts["pyproject.toml"] = text.splitlines()
    try:
        project.pyproject = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        project.warnings.append(f"pyproject.toml is not valid TOML ({exc}): not reviewed")
        return
    table = _table(project.pyproject, "project")
    groups: list[tuple[bool, Any]] = [(True, table.get("dependencies", []))]
    groups += [(False, v) for v in _table(table, "optional-dependencies").values()]
    groups += [(False, v) for v in _table(project.pyproject, "dependency-groups").values()]
    for runtime, items in groups:
        for raw in (i for i in items if isinstance(i, str)) if isinstance(items, list) else ():
            line = project.line_of("pyproject.toml", re.escape(f'"{raw}"') + "|" + re.escape(raw))
            _add(project, raw, "pyproject.toml", line, runtime)


def _requirements(project: Project) -> None:
    names = [p for p in project.files if re.fullmatch(r"requirements[^/]*\.txt", p)]
    names += [p for p in project.files if re.fullmatch(r"requirements/[^/]+\.txt", p)]
    for rel in names:
        lines = (project.root / rel).read_text(encoding="utf-8", errors="replace").splitlines()
        project.texts[rel] = lines
        for n, text in enumerate(lines, 1):
            raw = text.split(" #", 1)[0].split(" --", 1)[0].strip().rstrip("\\").strip()
            if raw and not raw.startswith(("#", "-")):
                _add(project, raw, rel, n, not NOT_RUNTIME.search(Path(rel).name))


def list_files(root: Path) -> list[str]:
    listed = git_files(root)
    if listed is not None:
        return listed
    found: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        rel = Path(dirpath).relative_to(root)
        found.extend((rel / n).as_posix() for n in sorted(filenames))
    return found


def load_project(root: Path) -> Project:
    project = Project(root=root, files=list_files(root))
    _pyproject(project)
    _requirements(project)
    return project
