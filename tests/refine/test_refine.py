"""The tidy-up end to end: real git worktrees, real ruff, the project's real tests, the audit log,
the CLI and a workflow."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ai_conductor.errors import UsageError
from ai_conductor.refine import refine
from ai_conductor.settings import get_settings
from ai_conductor.store import open_audit_log
from tests.conftest import BIN, REPO, cli_env
from tests.refine.conftest import PYTEST_CONFIG, git, make_repo

pytestmark = pytest.mark.usefixtures("conductor_home")

MESSY = """import sys
import os
def add(a,b):
    return a+b
def where():
  return os.sep+sys.platform[:0]
"""
TIDY = """import os
import sys


def add(a, b):
    return a + b


def where():
    return os.sep + sys.platform[:0]
"""
TESTS = """from pkg.core import add


def test_add():
    assert add(2, 3) == 5
"""


@pytest.fixture
def messy(tmp_path: Path) -> Path:
    files = {"pkg/__init__.py": "", "pkg/core.py": MESSY, "tests/test_core.py": TESTS,
             "pyproject.toml": PYTEST_CONFIG}  # fmt: skip
    return make_repo(tmp_path / "messy", files)


def attempt_rows(run_id: str) -> list[tuple[str | None, str, str | None]]:
    rows = open_audit_log(get_settings()).query(run_id=run_id, action="attempt")
    return [(r.agent_role, r.status, r.error_message) for r in rows]


def test_tidy_is_verified_and_kept_on_a_branch_with_the_checkout_untouched(messy: Path) -> None:
    report = refine(messy, types=False)
    (tidy,) = report.tidy or []
    assert tidy.status.value == "kept", tidy.reason
    assert tidy.branch == "conductor/refine/refine/tidy"
    assert tidy.touched == ["pkg/core.py"]
    assert tidy.verification is not None
    assert tidy.verification.tests is not None
    assert tidy.verification.tests.passed
    assert not report.applied
    # the checkout is untouched; the branch holds the tidy code
    assert git(messy, "status", "--porcelain") == ""
    assert (messy / "pkg" / "core.py").read_text() == MESSY
    assert git(messy, "show", f"{tidy.branch}:pkg/core.py") == TIDY
    patch = Path(tidy.patch or "")
    assert patch == get_settings().home_dir / "patches" / report.run_id / "tidy.patch"
    assert "+import sys" in patch.read_text()
    assert "+def add(a, b):" in patch.read_text()
    assert attempt_rows(report.run_id) == [("refiner", "kept", None)]
    summary = open_audit_log(get_settings()).query(run_id=report.run_id, action="refine")
    assert [(r.agent_role, r.metadata["tidy"]) for r in summary] == [("refiner", ["kept"])]
    assert "conductor/refine/refine/tidy" in git(messy, "branch", "--list")
    assert git(messy, "worktree", "list").count("\n") == 1  # the worktree itself is gone


def test_apply_puts_the_verified_tidy_up_in_the_checkout(messy: Path) -> None:
    report = refine(messy, types=False, apply=True)
    assert report.applied
    assert (messy / "pkg" / "core.py").read_text() == TIDY
    assert git(messy, "status", "--porcelain") == " M pkg/core.py\n"
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=messy, capture_output=True, text=True)  # fmt: skip
    assert tests.returncode == 0, tests.stdout


def test_apply_refuses_conflicting_local_changes_and_loses_nothing(messy: Path) -> None:
    local = MESSY + "# my local edit\n"
    (messy / "pkg" / "core.py").write_text(local)
    report = refine(messy, types=False, stack="python", apply=True)
    assert not report.applied
    assert re.search(r"pkg/core\.py.*uncommitted changes", report.not_applied or "")
    assert "conductor/refine/refine/tidy" in (report.not_applied or "")  # where it still is
    assert report.stack is not None  # the rest of the work still ran and is reported
    assert (messy / "pkg" / "core.py").read_text() == local
    assert "conductor/refine/refine/tidy" in git(messy, "branch", "--list")
    rows = open_audit_log(get_settings()).query(run_id=report.run_id, action="refine")
    assert [r.metadata["applied"] for r in rows] == [False]


def test_a_tidy_up_that_breaks_the_tests_is_discarded_with_the_reason(tmp_path: Path) -> None:
    verbatim = (
        "from pathlib import Path\n\n\n"
        "def test_source_is_verbatim():\n"
        "    source = Path(__file__).parent.parent / 'pkg' / 'core.py'\n"
        f"    assert source.read_text() == {MESSY!r}\n"
    )
    root = make_repo(tmp_path / "fragile", {"pkg/__init__.py": "", "pkg/core.py": MESSY,
                                            "tests/test_src.py": verbatim,
                                            "pyproject.toml": PYTEST_CONFIG})  # fmt: skip
    report = refine(root, types=False)
    (tidy,) = report.tidy or []
    assert tidy.status.value == "discarded"
    assert tidy.reason.startswith("tests failed")
    assert "test_source_is_verbatim" in tidy.reason
    assert tidy.branch is None
    assert tidy.patch is None
    assert "pkg/core.py" in tidy.touched
    assert git(root, "branch", "--list").strip() == "* main"  # no branch left behind
    assert not (get_settings().home_dir / "patches" / report.run_id).exists()
    ((role, status, error),) = attempt_rows(report.run_id)
    assert (role, status) == ("refiner", "discarded")
    assert "tests failed" in (error or "")


def test_tidy_code_is_left_unchanged_and_no_branch_remains(tmp_path: Path) -> None:
    root = make_repo(tmp_path / "tidy", {"pkg/__init__.py": "", "pkg/core.py": TIDY,
                                         "tests/test_core.py": TESTS,
                                         "pyproject.toml": PYTEST_CONFIG})  # fmt: skip
    report = refine(root, types=False)
    (tidy,) = report.tidy or []
    assert tidy.status.value == "unchanged"
    assert tidy.touched == []
    assert git(root, "branch", "--list").strip() == "* main"
    assert attempt_rows(report.run_id) == [("refiner", "unchanged", None)]


def test_the_projects_ruff_config_is_respected(tmp_path: Path) -> None:
    config = PYTEST_CONFIG + "[tool.ruff.format]\nquote-style = 'single'\n"
    code = 'import os\nNAME = "x"\nSEP = os.sep\n'
    root = make_repo(tmp_path / "single", {"pkg/__init__.py": "", "pkg/core.py": code,
                                           "tests/test_core.py": "def test_ok():\n    pass\n",
                                           "pyproject.toml": config})  # fmt: skip
    report = refine(root, types=False, test_command=[])
    (tidy,) = report.tidy or []
    assert tidy.status.value == "kept", tidy.reason
    assert "tests disabled" in tidy.reason
    assert tidy.verification is not None
    assert tidy.verification.tests is None  # test_command=[]: no tests ran
    assert "NAME = 'x'" in git(root, "show", f"{tidy.branch}:pkg/core.py")


def test_an_unknown_stack_is_a_usage_error_naming_the_known_ones(messy: Path) -> None:
    with pytest.raises(UsageError, match="python_postgres_weaviate") as caught:
        refine(messy, stack="python_mongodb")
    assert "python_mongodb" in str(caught.value)
    assert git(messy, "branch", "--list").strip() == "* main"  # failed before doing anything


@pytest.fixture
def stacked(messy: Path) -> Path:
    (messy / "pyproject.toml").write_text(
        '[project]\nname = "pkg"\nversion = "0.1"\nrequires-python = ">=3.9"\n'
        'dependencies = ["psycopg2-binary>=2.9"]\n\n' + PYTEST_CONFIG
    )
    (messy / "config.yaml").write_text("url: postgresql://app:hunter2@db/app\n")
    subprocess.run(["git", "add", "-A"], cwd=messy, check=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "deps"],
                   cwd=messy, check=True)  # fmt: skip
    return messy


def test_cli_refine_with_a_stack_prints_json_and_exits_0(
    stacked: Path, conductor_home: Path
) -> None:
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    argv = [str(BIN / "conductor"), "refine", "--stack", "python_postgres_weaviate",
            "--codebase", str(stacked), "--json"]  # fmt: skip
    run = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    (tidy,) = report["tidy"]
    assert tidy["status"] == "kept"
    assert tidy["branch"] == "conductor/refine/refine/tidy"
    assert report["environment"]["kind"] == "isolated"
    assert report["type_report"]["available"] is True
    rules = {f["rule_id"] for f in report["stack"]["findings"]}
    assert {"STACK-PYTHON-EOL", "STACK-PG-PSYCOPG2-BINARY", "STACK-WEAVIATE-MISSING",
            "STACK-SECRET-IN-CONFIG"} <= rules  # fmt: skip
    assert "hunter2" not in run.stdout + run.stderr
    assert "STACK-PG-PSYCOPG2-BINARY" in run.stderr  # the human table
    assert git(stacked, "status", "--porcelain") == ""


def test_cli_refine_with_an_unknown_stack_exits_2_without_a_traceback(
    messy: Path, conductor_home: Path
) -> None:
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    argv = [str(BIN / "conductor"), "refine", "--stack", "cobol", "--codebase", str(messy)]
    run = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, run.stderr
    assert "unknown stack 'cobol'" in lines[0]
    assert "python_postgres_weaviate" in lines[0]


@pytest.mark.usefixtures("prefect_api")
def test_improve_workflow_runs_the_refiner_after_the_implementer(messy: Path) -> None:
    from ai_conductor import run_spec

    result = run_spec(REPO / "workflows" / "improve.yaml", codebase=messy)
    assert result.ok, result.summary_line()
    refined = result.results["refine"]
    (tidied,) = refined["tidy"]
    assert tidied["status"] == "kept", tidied["reason"]
    assert tidied["branch"] == "conductor/improve/refine/tidy"
    assert refined["stack"]["name"] == "python"
    assert refined["type_report"]["available"] is True
    assert git(messy, "status", "--porcelain") == ""


def test_existing_findings_on_lines_the_formatter_joins_do_not_block_the_tidy_up(
    tmp_path: Path,
) -> None:
    from ai_conductor.analysis import scan

    code = "def parse(text):\n    return eval(\n        text)\n"
    tests = "from pkg.core import parse\n\n\ndef test_parse():\n    assert parse('3') == 3\n"
    root = make_repo(tmp_path / "evil", {"pkg/__init__.py": "", "pkg/core.py": code,
                                         "tests/test_core.py": tests,
                                         "pyproject.toml": PYTEST_CONFIG})  # fmt: skip
    before = [f for f in scan(root).findings if f.path == "pkg/core.py"]
    assert any(f.severity.rank >= 2 for f in before)  # eval: at least medium, on "return eval("
    report = refine(root, types=False)
    (tidy,) = report.tidy or []
    assert tidy.status.value == "kept", tidy.reason
    tidied = git(root, "show", f"{tidy.branch}:pkg/core.py")
    assert "    return eval(text)\n" in tidied
