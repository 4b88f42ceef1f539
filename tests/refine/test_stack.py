"""The stack review: the real deptry, version bounds, Python targets and configuration smells."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from ai_conductor.analysis.models import Finding
from ai_conductor.errors import AgentError, UsageError
from ai_conductor.refine import STACKS, review_stack
from ai_conductor.refine import checks as ck
from ai_conductor.refine.project import load_project
from tests.refine.conftest import make_repo

pytestmark = pytest.mark.usefixtures("conductor_home")

PYPROJECT = """[project]
name = "app"
version = "0.1"
requires-python = ">=3.9"
dependencies = [
    "httpx>=0.27",
    "requests",
    "psycopg2-binary>=2.9",
    "weaviate-client<4",
]

[tool.ruff]
target-version = "py312"
"""
APP = "import notinstalled_xyz\nimport psycopg2\nimport requests\nimport weaviate\n"


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    files = {"pyproject.toml": PYPROJECT, "app/__init__.py": APP,
             "deploy/config.yaml": "database:\n  url: postgresql://u:secret@host/db\n",
             "deploy/ok.yaml": "url: postgresql://u:${DB_PASSWORD}@host/db\n"}  # fmt: skip
    return make_repo(tmp_path / "sample", files)


def where(findings: list[Finding]) -> dict[str, list[tuple[str, int]]]:
    out: dict[str, list[tuple[str, int]]] = {}
    for f in findings:
        out.setdefault(f.rule_id, []).append((f.path, f.line))
    return out


def test_the_full_stack_review_finds_every_seeded_problem(sample: Path) -> None:
    warnings: list[str] = []
    findings = review_stack(sample, "python_postgres_weaviate", warnings=warnings)
    found = where(findings)
    assert found["STACK-DEP-UNUSED"] == [("pyproject.toml", 6)]  # httpx
    assert found["STACK-DEP-MISSING"] == [("app/__init__.py", 1)]
    assert sorted(found["STACK-DEP-UNPINNED"]) == [("pyproject.toml", 7), ("pyproject.toml", 9)]
    assert found["STACK-PYTHON-EOL"] == [("pyproject.toml", 4)]
    assert found["STACK-TARGET-MISMATCH"] == [("pyproject.toml", 13)]
    assert found["STACK-PG-PSYCOPG2-BINARY"] == [("pyproject.toml", 8)]
    assert found["STACK-WEAVIATE-V3"] == [("pyproject.toml", 9)]
    assert found["STACK-SECRET-IN-CONFIG"] == [("deploy/config.yaml", 2)]  # not ${DB_PASSWORD}
    assert "STACK-PG-NO-DRIVER" not in found
    assert "STACK-WEAVIATE-MISSING" not in found
    assert "STACK-WEAVIATE-UNBOUNDED" not in found  # "<4" is a bound (the v3 finding says it)
    assert warnings == []
    for f in findings:
        assert f.tool == "stack"
        assert "Recommendation: " in f.message
        assert ":secret@" not in f.message  # the password never shows
        assert len(f.fingerprint) == 32
    assert ":secret@" not in json.dumps([f.model_dump(mode="json") for f in findings])
    eol = next(f for f in findings if f.rule_id == "STACK-PYTHON-EOL")
    assert "3.9 (end of life 2025-10-31)" in eol.message
    assert "3.10 (end of life 2026-10-31)" in eol.message
    assert '">=3.11"' in eol.message
    secret = next(f for f in findings if f.rule_id == "STACK-SECRET-IN-CONFIG")
    assert (secret.severity.value, secret.category.value) == ("high", "security")
    assert "postgresql://u:***@host" in secret.message
    target = next(f for f in findings if f.rule_id == "STACK-TARGET-MISMATCH")
    assert "'py312' is newer than the oldest Python requires-python admits (3.9)" in target.message


def test_the_python_stack_has_no_database_checks(sample: Path) -> None:
    found = where(review_stack(sample, "python"))
    assert not [r for r in found if r.startswith(("STACK-PG-", "STACK-WEAVIATE-"))]
    assert "STACK-DEP-UNUSED" in found
    assert set(STACKS) == {"python", "python_postgres", "python_postgres_weaviate"}


def test_the_eol_table_ages_with_todays_date(sample: Path) -> None:
    project = load_project(sample)
    assert ck.check_python(project, today=date(2025, 6, 1)) == []  # 3.9 was still supported
    (late,) = ck.check_python(project, today=date(2025, 11, 1))
    assert "3.9 (end of life" in late.message
    assert "3.10 (end of life" not in late.message
    assert '">=3.10"' in late.message


def test_missing_drivers_unbounded_clients_and_requirements_files(tmp_path: Path) -> None:
    files = {"requirements.txt": "weaviate-client>=4.9\nsqlalchemy>=1.4,<3  # orm\n",
             "requirements-dev.txt": "psycopg2-binary>=2.9\n",
             "app.py": "import sqlalchemy\nimport weaviate\n",
             ".env": "DATABASE_URL=postgresql://app:pw123@db/app\n"}  # fmt: skip
    root = make_repo(tmp_path / "reqs", files)
    findings = review_stack(root, "python-postgres-weaviate")
    found = where(findings)
    assert found["STACK-WEAVIATE-UNBOUNDED"] == [("requirements.txt", 1)]
    assert found["STACK-SQLALCHEMY-1X"] == [("requirements.txt", 2)]
    assert "STACK-PG-NO-DRIVER" not in found  # psycopg2-binary is declared (for development)
    assert "STACK-PG-PSYCOPG2-BINARY" not in found  # ... so not a runtime dependency
    assert found["STACK-ENV-COMMITTED"] == [(".env", 1)]
    assert found["STACK-SECRET-IN-CONFIG"] == [(".env", 1)]
    assert all("pw123" not in f.message for f in findings)


def test_a_tidy_project_gets_no_findings(tmp_path: Path) -> None:
    pyproject = (
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
        'dependencies = ["pydantic>=2.7", "psycopg[binary]>=3.2", "weaviate-client>=4.9,<5"]\n'
        '\n[tool.deptry.per_rule_ignores]\nDEP002 = ["psycopg", "weaviate-client"]\n'
    )
    root = make_repo(tmp_path / "clean", {"pyproject.toml": pyproject,
                                          "app/__init__.py": "import pydantic\n"})  # fmt: skip
    warnings: list[str] = []
    assert review_stack(root, "python_postgres_weaviate", warnings=warnings) == []
    assert warnings == []


def test_the_advise_hook_adds_advice_by_fingerprint(sample: Path) -> None:
    seen: list[int] = []

    def advise(findings: list[Finding]) -> dict[str, str]:
        seen.append(len(findings))
        eol = next(f for f in findings if f.rule_id == "STACK-PYTHON-EOL")
        return {eol.fingerprint: "CI still tests 3.9; drop it there first."}

    findings = review_stack(sample, "python", advise=advise)
    assert seen == [len(findings)]
    eol = next(f for f in findings if f.rule_id == "STACK-PYTHON-EOL")
    assert eol.message.endswith("Advice: CI still tests 3.9; drop it there first.")
    assert sum("Advice:" in f.message for f in findings) == 1

    def broken(findings: list[Finding]) -> dict[str, str]:
        raise AgentError("the model is down")

    warnings: list[str] = []
    assert len(review_stack(sample, "python", advise=broken, warnings=warnings)) == len(findings)
    assert warnings == ["no advice for the stack findings: the model is down"]


def test_without_deptry_the_other_checks_still_run_with_a_warning(
    sample: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ck, "find_binary", lambda name: None)
    warnings: list[str] = []
    found = where(review_stack(sample, "python", warnings=warnings))
    assert "STACK-DEP-UNUSED" not in found
    assert "STACK-DEP-UNPINNED" in found
    assert len(warnings) == 1
    assert warnings[0].startswith("deptry is not installed")


def test_an_unknown_stack_lists_the_known_ones(sample: Path) -> None:
    with pytest.raises(UsageError) as caught:
        review_stack(sample, "java_spring")
    assert str(caught.value) == (
        "unknown stack 'java_spring'; known stacks: python, python_postgres, "
        "python_postgres_weaviate"
    )


def test_dev_extras_are_dev_dependencies_and_duplicates_are_reported_once(
    tmp_path: Path,
) -> None:
    pyproject = (
        '[project]\nname = "app"\nversion = "0.1"\nrequires-python = ">=3.11"\n'
        'dependencies = ["pydantic>=2.7"]\n\n[project.optional-dependencies]\n'
        'dev = ["pytest>=8", "mypy>=1.10"]\nfast = ["httpx>=0.27"]\nall = ["httpx>=0.27"]\n'
    )
    code = "import pydantic\nimport pytest\n"
    root = make_repo(tmp_path / "extras", {"pyproject.toml": pyproject, "app/__init__.py": code})
    found = where(review_stack(root, "python"))
    assert found == {
        "STACK-DEP-DEV-IMPORT": [("app/__init__.py", 2)],  # pytest, from the [dev] extra
        "STACK-DEP-UNUSED": [("pyproject.toml", 9)],  # httpx, once; mypy is a dev tool
    }
