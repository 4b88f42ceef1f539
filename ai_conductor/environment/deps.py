"""What an isolated environment installs, read statically from the project's files.

Read: ``[project] dependencies``, the test extras and dependency groups (named ``test``,
``tests``, ``testing`` or ``dev``; a group's ``include-group`` and an extra naming the project
itself are followed), ``setup.cfg``'s ``install_requires`` and test extras, every root
``requirements*.txt`` and ``requirements/*.txt`` (not the docs ones; nested ``-r``/``-c``
followed) and a root ``constraints.txt`` (as constraints). pytest is added when the tests use
it and nothing declares it. The project itself is not installed: the code under test is always
the worktree's (see ``ProjectEnvironment.environ``), so a line naming the project's own
directory (``-e .``) is dropped. The key is a hash of all of that plus the Python version.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from ai_conductor.environment.project import pyproject

TEST_NAMES = frozenset({"test", "tests", "testing", "dev"})
"""Extras and dependency groups installed beside the runtime dependencies."""
_NESTED = re.compile(r"^(-r|--requirement|-c|--constraint)[\s=]+(.+)$")
_PATHLIKE = re.compile(r"^(-e|--editable)?[\s=]*(\.{1,2}(/|$)|/|file:)")
_FIND_LINKS = re.compile(r"^(-f|--find-links)[\s=]+(.+)$")


@dataclass
class Plan:
    """An isolated environment's recipe; equal recipes share one environment."""

    requirements: list[str] = field(default_factory=list)
    """PEP 508 requirements from pyproject.toml / setup.cfg (and pytest when added)."""
    files: dict[str, str] = field(default_factory=dict)
    """Requirements files as installed (paths made absolute), by their file name."""
    top: list[str] = field(default_factory=list)
    """Files installed with ``-r``; the others are nested in them."""
    constraints: list[str] = field(default_factory=list)
    """Files passed with ``-c``."""
    sources: list[str] = field(default_factory=list)
    """What was read, for the reason sentence."""
    python: str = sys.executable

    def names(self) -> set[str]:
        found: set[str] = set()
        for text in [*self.requirements, *"\n".join(self.files.values()).splitlines()]:
            try:
                found.add(canonicalize_name(Requirement(text.strip()).name))
            except InvalidRequirement:
                continue
        return found

    def key(self) -> str:
        tag = f"{sys.implementation.name}-{'.'.join(map(str, sys.version_info[:3]))}"
        data = {"python": tag, "requirements": self.requirements, "files": self.files,
                "top": self.top, "constraints": self.constraints}  # fmt: skip
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:20]

    def install_args(self, folder: Path) -> list[str]:
        """Installer arguments, the files written to ``folder`` first."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, text in self.files.items():
            (folder / name).write_text(text, encoding="utf-8")
        args = [a for name in self.top for a in ("-r", str(folder / name))]
        args += [a for name in self.constraints for a in ("-c", str(folder / name))]
        return [*args, *self.requirements]


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _extras(project: dict[str, Any], names: frozenset[str], own: str) -> list[str]:
    """Requirements of the extras ``names``, following ``own[extra]`` self-references."""
    table = project.get("optional-dependencies", {})
    out, todo, seen = [], sorted(names), set()
    while todo:
        name = todo.pop()
        if name in seen or not isinstance(table, dict):
            continue
        seen.add(name)
        for text in _strings(table.get(name)):
            try:
                req = Requirement(text)
            except InvalidRequirement:
                out.append(text)
                continue
            if own and canonicalize_name(req.name) == own:
                todo += sorted(req.extras)
            else:
                out.append(text)
    return out


def _groups(data: dict[str, Any], names: frozenset[str]) -> list[str]:
    """PEP 735 dependency groups ``names``, ``include-group`` followed."""
    table = data.get("dependency-groups", {})
    out, todo, seen = [], sorted(names), set()
    while todo and isinstance(table, dict):
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for item in table.get(name, []) if isinstance(table.get(name), list) else []:
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, dict) and isinstance(item.get("include-group"), str):
                todo.append(item["include-group"])
    return out


def _from_pyproject(root: Path, plan: Plan) -> None:
    data = pyproject(root)
    project = data.get("project", {}) if isinstance(data.get("project"), dict) else {}
    own = canonicalize_name(str(project.get("name", ""))) if project.get("name") else ""
    if "dependencies" in project:
        plan.requirements += _strings(project["dependencies"])
        plan.sources.append("pyproject.toml dependencies")
    extras = TEST_NAMES & set(project.get("optional-dependencies", {}) or {})
    if extras:
        plan.requirements += _extras(project, extras, own)
        plan.sources.append(f"extras {', '.join(sorted(extras))}")
    groups = TEST_NAMES & set(data.get("dependency-groups", {}) or {})
    if groups:
        plan.requirements += _groups(data, groups)
        plan.sources.append(f"dependency groups {', '.join(sorted(groups))}")


def _from_setup_cfg(root: Path, plan: Plan) -> None:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read(root / "setup.cfg", encoding="utf-8")
    except (configparser.Error, UnicodeDecodeError):
        return
    lines = [parser.get("options", "install_requires", fallback="")]
    if parser.has_section("options.extras_require"):
        lines += [v for k, v in parser.items("options.extras_require") if k in TEST_NAMES]
    found = [line.strip() for text in lines for line in text.splitlines() if line.strip()]
    if found:
        plan.requirements += found
        plan.sources.append("setup.cfg install_requires")


def _logical_lines(text: str) -> list[str]:
    joined = re.sub(r"\\\r?\n", " ", text)
    return [re.sub(r"(^|\s)#.*$", "", line).strip() for line in joined.splitlines()]


def _local(value: str, base: Path) -> Path:
    return (base / value.removeprefix("file:")).resolve()


def _read(path: Path, root: Path, plan: Plan, depth: int = 0) -> str | None:
    """Add ``path`` (rewritten) to the plan's files; its file name there, or None."""
    name = f"{len(plan.files):02d}-{path.name}"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    plan.files[name] = ""  # reserve the name before nested files take the next numbers
    out = []
    for line in _logical_lines(text):
        nested, links = _NESTED.match(line), _FIND_LINKS.match(line)
        if nested and depth < 5:
            inner = _read(_local(nested[2].strip(), path.parent), root, plan, depth + 1)
            out += [f"{nested[1]} {inner}"] if inner else []
        elif links and "://" not in links[2]:
            out.append(f"{links[1]} {_local(links[2].strip(), path.parent)}")
        elif line and (m := _PATHLIKE.match(line)):
            editable = "-e" if m[1] else ""
            where = _local(line[m.end(1) if m[1] else 0 :].strip(" ="), path.parent)
            if where != root:  # the project itself comes from the worktree
                out.append(f"{editable} {where}".strip())
        elif line:
            out.append(line)
    plan.files[name] = "\n".join(out) + "\n"
    return name


def _requirement_files(root: Path) -> list[Path]:
    found = sorted(root.glob("requirements*.txt")) + sorted(root.glob("requirements/*.txt"))
    return [p for p in found if p.is_file() and "doc" not in p.name.lower()]


def plan_for(root: Path, *, pytest: bool) -> Plan:
    """The recipe for ``root``; ``pytest``: the tests use pytest (added if undeclared)."""
    plan = Plan()
    _from_pyproject(root, plan)
    _from_setup_cfg(root, plan)
    for path in _requirement_files(root):
        name = _read(path, root, plan)
        if name:
            plan.top.append(name)
            plan.sources.append(path.relative_to(root).as_posix())
    if (root / "constraints.txt").is_file():
        name = _read(root / "constraints.txt", root, plan)
        if name:
            plan.constraints.append(name)
            plan.sources.append("constraints.txt (as constraints)")
    if pytest and "pytest" not in plan.names():
        plan.requirements.append("pytest")
        plan.sources.append("pytest (the tests use it; not declared)")
    return plan
