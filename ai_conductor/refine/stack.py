"""Technology-stack review: each named stack is a tuple of checks over what the project declares.

``python`` covers every Python project; ``python_postgres`` adds the PostgreSQL driver and
SQLAlchemy; ``python_postgres_weaviate`` adds the Weaviate client. Every finding has tool
``stack``, a ``STACK-*`` rule id and a message ending with a recommendation. An optional
``advise`` hook (an LLM, when the lead wires one) may add advice per finding fingerprint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from ai_conductor.analysis.files import check_codebase
from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.analysis.normalize import fingerprint_all
from ai_conductor.errors import AgentError, UsageError
from ai_conductor.refine import checks
from ai_conductor.refine.project import UPPER_OPS, Project, finding, load_project

Check = Callable[[Project], list[Finding]]
Advise = Callable[[list[Finding]], Mapping[str, str]]
PG_DRIVERS = ("psycopg", "psycopg-binary", "psycopg2", "psycopg2-binary", "asyncpg", "pg8000")


def check_postgres_driver(p: Project) -> list[Finding]:
    if p.declared(*PG_DRIVERS):
        return []
    where = p.deps_file()
    return [finding("STACK-PG-NO-DRIVER", Severity.MEDIUM, Category.BUG, where,
                    p.line_of(where, r"^\s*dependencies\s*="),
                    "no PostgreSQL driver is declared (psycopg, psycopg2, asyncpg)",
                    "declare 'psycopg[binary]>=3.2' (or 'asyncpg>=0.29' for asyncio code)",
                    ("database",))]  # fmt: skip


def check_psycopg2_binary(p: Project) -> list[Finding]:
    return [
        finding("STACK-PG-PSYCOPG2-BINARY", Severity.LOW, Category.MAINTAINABILITY, d.file,
                d.line, "psycopg2-binary is a runtime dependency; psycopg's documentation "
                "advises against the binary package in production (it bundles its own libpq "
                "and OpenSSL)", "move to psycopg 3 ('psycopg[binary]>=3.2', or 'psycopg[c]' "
                "built against the system libpq in production), or build 'psycopg2>=2.9' from "
                "source", ("database",))
        for d in p.declared("psycopg2-binary", runtime_only=True)
    ]  # fmt: skip


def check_sqlalchemy(p: Project) -> list[Finding]:
    return [
        finding("STACK-SQLALCHEMY-1X", Severity.MEDIUM, Category.MAINTAINABILITY, d.file, d.line,
                f"{str(d.req)!r} admits SQLAlchemy 1.x (its legacy API was removed in 2.0)",
                "require 'sqlalchemy>=2.0' and use the 2.0 style (select(), Session.execute)",
                ("database",))
        for d in p.declared("sqlalchemy") if d.req.specifier and d.admits_major(1)
    ]  # fmt: skip


def check_weaviate(p: Project) -> list[Finding]:
    deps = p.declared("weaviate-client")
    if not deps:
        where = p.deps_file()
        return [finding("STACK-WEAVIATE-MISSING", Severity.MEDIUM, Category.BUG, where,
                        p.line_of(where, r"^\s*dependencies\s*="),
                        "weaviate-client is not declared", "declare 'weaviate-client>=4.9,<5'",
                        ("database",))]  # fmt: skip
    found = []
    for d in deps:
        if d.req.specifier and d.admits_major(3):
            found.append(finding(
                "STACK-WEAVIATE-V3", Severity.MEDIUM, Category.BUG, d.file, d.line,
                f"{str(d.req)!r} admits weaviate-client 3.x (its v3 API was removed in 4.0)",
                "require 'weaviate-client>=4.9,<5' and port to the v4 collections API",
                ("database",)))  # fmt: skip
        if not d.bounds(UPPER_OPS):
            found.append(finding(
                "STACK-WEAVIATE-UNBOUNDED", Severity.LOW, Category.MAINTAINABILITY, d.file,
                d.line, f"{str(d.req)!r} has no upper bound, and weaviate-client's major "
                "versions break the API (v4 removed v3's)", "bound the major: "
                "'weaviate-client>=4.9,<5'", ("database",)))  # fmt: skip
    return found


_PYTHON: tuple[Check, ...] = (
    checks.check_deptry, checks.check_unpinned, checks.check_python, checks.check_targets,
    checks.check_secrets, checks.check_env_file,
)  # fmt: skip
_POSTGRES = (*_PYTHON, check_postgres_driver, check_psycopg2_binary, check_sqlalchemy)
STACKS: dict[str, tuple[Check, ...]] = {
    "python": _PYTHON,
    "python_postgres": _POSTGRES,
    "python_postgres_weaviate": (*_POSTGRES, check_weaviate),
}


def stack_checks(stack: str) -> tuple[str, tuple[Check, ...]]:
    """The stack's canonical name and checks; UsageError naming the known stacks."""
    name = stack.strip().lower().replace("-", "_")
    if name not in STACKS:
        raise UsageError(f"unknown stack {stack!r}; known stacks: {', '.join(STACKS)}")
    return name, STACKS[name]


def review_stack(
    codebase: Path, stack: str, *, advise: Advise | None = None,
    warnings: list[str] | None = None, python: str | None = None,
) -> list[Finding]:  # fmt: skip
    """``STACK-*`` findings for ``codebase`` reviewed as ``stack``; notes go to ``warnings``;
    ``python``: the project environment's interpreter (import names of its packages)."""
    _, selected = stack_checks(stack)
    root = check_codebase(codebase)
    project = load_project(root)
    project.python = python
    findings = sorted((f for check in selected for f in check(project)), key=Finding.sort_key)
    fingerprint_all(findings, root)
    if advise is not None and findings:
        try:
            advice = advise(findings)
        except AgentError as exc:
            project.warnings.append(f"no advice for the stack findings: {exc}")
            advice = {}
        for f in findings:
            if advice.get(f.fingerprint):
                stop = "" if f.message.rstrip().endswith(".") else "."
                f.message = f"{f.message.rstrip()}{stop} Advice: {advice[f.fingerprint].strip()}"
    if warnings is not None:
        warnings.extend(project.warnings)
    return findings
