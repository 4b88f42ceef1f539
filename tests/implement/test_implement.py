"""The implementer end to end: real git worktrees, real ruff fixes, the project's real tests."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.implement import ImplementOptions, implement
from ai_conductor.settings import get_settings
from ai_conductor.store import open_audit_log
from tests.conftest import BIN, cli_env
from tests.refine.conftest import make_repo

pytestmark = pytest.mark.usefixtures("conductor_home")
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false"]

CORE = """import os


def parse(text):
    return eval(text)


def label():
    return f"calc"


def add(a, b):
    return a + b
"""
TESTS = """from calc.core import add, label, parse


def test_parse():
    assert parse("3") == 3


def test_add_and_missing():
    assert add(2, 3) == 5
    assert label() == "calc"
"""


def calc_repo(root: Path, extra: dict[str, str] | None = None) -> Path:
    """A git repository with the calc package (eval, f-string, unused import) and its tests."""
    files = {"calc/__init__.py": "", "calc/core.py": CORE, "tests/test_core.py": TESTS,
             "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
             **(extra or {})}  # fmt: skip
    return make_repo(root, files)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return calc_repo(tmp_path / "calc-repo")


def status(root: Path) -> str:
    return subprocess.run(
        ["git", "status", "--porcelain"], cwd=root, capture_output=True, text=True, check=True
    ).stdout


def attempts(run_id: str) -> list[tuple[str, str | None]]:
    rows = open_audit_log(get_settings()).query(run_id=run_id, action="attempt", limit=100)
    return [(r.status, r.error_message) for r in reversed(rows)]


def test_builtin_fixes_autofixable_findings_and_leaves_the_checkout_alone(repo: Path) -> None:
    analysis = analyze(repo)
    fixable = {f.rule_id for f in analysis.findings if f.fixable}
    assert {"F401", "F541"} <= fixable
    report = implement(analysis, repo, ImplementOptions(backend="builtin"))
    (change,) = report.changes
    assert change.status.value == "kept", change.attempts[-1].reason
    assert status(repo) == ""
    assert (repo / "calc" / "core.py").read_text() == CORE
    patch = Path(change.patch or "").read_text()
    assert "+import os as os" in patch  # a public module's unused import is re-exported
    assert '+    return "calc"' in patch
    note = Path(change.patch or "").with_suffix(".md").read_text()  # what, why, verdict
    assert "# file:calc/core.py" in note
    assert "F401" in note
    assert "F541" in note
    assert f"`{change.branch}`" in note
    assert "tests passed" in note
    branch = subprocess.run(["git", "branch", "--list", change.branch or "?"], cwd=repo,
                            capture_output=True, text=True, check=True).stdout  # fmt: skip
    assert change.branch in branch
    assert change.attempts[0].verification is not None
    assert change.attempts[0].verification.tests is not None
    assert change.attempts[0].verification.tests.passed
    assert attempts(report.run_id) == [("kept", None)]
    assert report.environment is not None  # where the tests ran, and why, in every record
    assert report.environment.kind.value == "isolated"
    assert "an isolated environment built from pytest" in report.environment.reason
    assert "- tests ran in: isolated environment" in note
    assert "in isolated environment" in change.attempts[0].verification.reason
    (row,) = open_audit_log(get_settings()).query(run_id=report.run_id, action="attempt")
    assert row.metadata["environment"] == "isolated"
    assert "isolated environment" in row.metadata["environment_reason"]

    applied = implement(analysis, repo, ImplementOptions(backend="builtin", apply=True))
    assert applied.applied == ["file:calc/core.py"]
    assert "import os as os\n" in (repo / "calc" / "core.py").read_text()
    tests = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
                           cwd=repo, capture_output=True, text=True)  # fmt: skip
    assert tests.returncode == 0, tests.stdout


def test_a_change_that_breaks_the_tests_is_discarded_and_the_next_attempt_kept(
    repo: Path,
) -> None:
    analysis = analyze(repo)
    breaking = [{"path": "calc/core.py", "search": "return eval(text)", "replace": "return text"}]
    correct = [
        {"path": "calc/core.py", "search": "return eval(text)", "replace": "return int(text)"}
    ]
    options = ImplementOptions(
        backend="fake", backend_options={"script": [breaking, correct]}, focus=["security"]
    )
    report = implement(analysis, repo, options)
    (change,) = report.changes
    assert [a.status.value for a in change.attempts] == ["discarded", "kept"]
    assert "test" in change.attempts[0].reason.lower()
    log = attempts(report.run_id)
    assert log[0][0] == "discarded"
    assert "test" in (log[0][1] or "").lower()
    assert log[1] == ("kept", None)
    assert status(repo) == ""


def test_an_edit_outside_the_worktree_is_refused_and_recorded(repo: Path, tmp_path: Path) -> None:
    analysis = analyze(repo)
    escape = [{"path": "../../outside.py", "search": "", "replace": "print('pwned')\n"}]
    report = implement(
        analysis, repo,
        ImplementOptions(backend="fake", backend_options={"script": [escape]}, attempts=1,
                         focus=["security"]),
    )  # fmt: skip
    (change,) = report.changes
    assert change.status.value == "error"
    assert not list(tmp_path.rglob("outside.py"))
    assert attempts(report.run_id)[0][0] == "error"


def test_cli_implement_and_apply_refuses_local_changes(
    repo: Path, tmp_path: Path, conductor_home: Path
) -> None:
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    out = tmp_path / "analysis.json"
    subprocess.run([str(BIN / "conductor"), "analyze", "--codebase", str(repo), "-o", str(out)],
                   env=env, check=True, capture_output=True)  # fmt: skip
    run = subprocess.run([str(BIN / "conductor"), "implement", "--analysis", str(out)],
                         env=env, capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert [c["status"] for c in report["changes"]] == ["kept"]
    assert status(repo) == ""

    (repo / "calc" / "core.py").write_text(CORE + "\n# my local edit\n")
    refused = subprocess.run(
        [str(BIN / "conductor"), "implement", "--analysis", str(out), "--apply"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode == 2, refused.stderr
    assert "calc/core.py" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert (repo / "calc" / "core.py").read_text().endswith("# my local edit\n")


@pytest.mark.usefixtures("prefect_api")
def test_improve_workflow_analyze_then_implement(repo: Path) -> None:
    from ai_conductor import run_spec
    from tests.conftest import REPO

    result = run_spec(REPO / "workflows" / "improve.yaml", codebase=repo)
    assert result.ok, result.summary_line()
    changes = result.results["fix"]["changes"]
    assert [c["status"] for c in changes] == ["kept"]
    assert changes[0]["branch"].startswith("conductor/improve/fix/")
    assert status(repo) == ""


def test_a_spent_budget_stops_the_run_cleanly(repo: Path) -> None:
    from ai_conductor.implement.budget import Budget

    analysis = analyze(repo)
    options = ImplementOptions(backend="builtin", budget=Budget(max_seconds=0.0))
    report = implement(analysis, repo, options)
    assert report.stopped is not None
    assert "time budget spent" in report.stopped
    assert [c.status.value for c in report.changes] == ["error"]
    assert report.changes[0].attempts == []
    assert status(repo) == ""
    rows = open_audit_log(get_settings()).query(run_id=report.run_id, action="stopped")
    assert [r.status for r in rows] == ["budget_exhausted"]


def test_group_by_rule_makes_one_change_per_rule_and_applies_them_all(repo: Path) -> None:
    (repo / "calc" / "extra.py").write_text("import sys\n\n\ndef name():\n    return f'x'\n")
    subprocess.run([*GIT, "add", "."], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", "extra"], cwd=repo, check=True)
    analysis = analyze(repo)
    options = ImplementOptions(backend="builtin", group_by="rule", apply=True)
    report = implement(analysis, repo, options)
    groups = {c.group: c for c in report.changes}
    assert set(groups) == {"rule:ruff:F401", "rule:ruff:F541"}
    assert all(c.status.value == "kept" for c in groups.values())
    f401 = Path(groups["rule:ruff:F401"].patch or "").read_text()
    assert "calc/core.py" in f401
    assert "calc/extra.py" in f401  # one change fixes the rule in every file
    # both patches touch calc/core.py: the second is applied on top of the first, not refused
    assert sorted(report.applied) == sorted(groups)
    assert report.not_applied == {}
    core = (repo / "calc" / "core.py").read_text()
    assert "import os as os\n" in core  # re-exported, not deleted
    assert 'return "calc"' in core


def test_a_refused_apply_keeps_the_report_branch_and_audit_trail(repo: Path) -> None:
    analysis = analyze(repo)
    (repo / "calc" / "core.py").write_text(CORE + "\n# my local edit\n")
    report = implement(analysis, repo, ImplementOptions(backend="builtin", apply=True))
    (change,) = report.changes
    assert change.status.value == "kept"
    assert report.applied == []
    assert "uncommitted changes" in report.not_applied[change.group]
    assert Path(change.patch or "").is_file()
    assert (repo / "calc" / "core.py").read_text().endswith("# my local edit\n")
    rows = open_audit_log(get_settings()).query(run_id=report.run_id, action="apply")
    assert [(r.status, r.metadata["group"]) for r in rows] == [("refused", change.group)]


def test_unknown_grouping_is_a_usage_error(repo: Path) -> None:
    from ai_conductor.errors import UsageError

    with pytest.raises(UsageError, match="choose from: file, rule"):
        implement(analyze(repo), repo, ImplementOptions(group_by="module"))


def test_a_change_outside_its_files_is_refused_before_any_test_runs(
    repo: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "conftest-ran"
    conftest = f"import pathlib\npathlib.Path({str(marker)!r}).write_text('ran')\n"
    fix = {"path": "calc/core.py", "search": "return eval(text)", "replace": "return int(text)"}
    sneaky = [fix, {"path": "conftest.py", "search": "", "replace": conftest}]
    options = ImplementOptions(
        backend="fake", backend_options={"script": [sneaky, [fix]]}, focus=["security"]
    )
    report = implement(analyze(repo), repo, options)
    (change,) = report.changes
    assert [a.status.value for a in change.attempts] == ["discarded", "kept"]
    assert "outside its findings: conftest.py" in change.attempts[0].reason
    assert not marker.exists(), "the gate ran code from a refused change"
    assert "conftest.py" not in Path(change.patch or "").read_text()


def test_suppression_comments_are_not_fixes(repo: Path) -> None:
    noqa = {"path": "calc/core.py", "search": "return eval(text)",
            "replace": "return eval(text)  # noqa: S307  # nosec"}  # fmt: skip
    options = ImplementOptions(
        backend="fake", backend_options={"script": [[noqa]]}, focus=["security"], attempts=1
    )
    (change,) = implement(analyze(repo), repo, options).changes
    assert change.status.value == "discarded"
    assert "suppression comments are not fixes" in change.attempts[0].reason


def test_long_group_names_get_distinct_patch_files(tmp_path: Path) -> None:
    deep = "pkg/" + "a_really_long_directory_name_" * 3 + "/"
    extra = {
        f"{deep}{name}.py": "import os\n\n\ndef f():\n    return 1\n" for name in ("one", "two")
    }
    root = calc_repo(tmp_path / "deep-repo", extra)
    report = implement(analyze(root), root, ImplementOptions(backend="builtin", apply=True))
    kept = [c for c in report.changes if c.status.value == "kept"]
    assert len(kept) == 3
    assert len({c.patch for c in kept}) == 3
    assert sorted(report.applied) == sorted(c.group for c in kept)
    assert all("import os as os\n" in (root / p).read_text() for p in extra)


def test_cli_exits_3_when_every_change_failed_before_verification(
    repo: Path, tmp_path: Path, conductor_home: Path
) -> None:
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    out = tmp_path / "analysis.json"
    subprocess.run([str(BIN / "conductor"), "analyze", "--codebase", str(repo), "-o", str(out)],
                   env=env, check=True, capture_output=True)  # fmt: skip
    run = subprocess.run(
        [str(BIN / "conductor"), "implement", "--analysis", str(out), "--backend", "openai",
         "--model", "m", "--base-url", "http://127.0.0.1:9/v1", "--backend-option", "retries=0",
         "--attempts", "1"],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 3, run.stderr
    assert "every change failed before it could be verified" in run.stderr
    assert "Traceback" not in run.stderr
    assert [c["status"] for c in json.loads(run.stdout)["changes"]] == ["error"]


def test_the_gate_runs_the_tests_without_the_conductors_secrets(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ai_conductor.implement.verify import run_tests

    monkeypatch.setenv("OPENAI_API_KEY", "sk-must-not-leak")
    monkeypatch.setenv("CONDUCTOR_API_TOKEN", "tok-must-not-leak")
    monkeypatch.setenv("PROJECT_SETTING", "kept")
    show = [sys.executable, "-c", "import os; print(sorted(os.environ.items()))"]
    run = run_tests(repo, show, timeout=60)
    assert run.passed
    assert "must-not-leak" not in run.output_tail
    assert "PROJECT_SETTING" in run.output_tail


def test_cli_a_failed_environment_build_exits_3_naming_the_command(
    repo: Path, tmp_path: Path, conductor_home: Path
) -> None:
    (repo / "requirements.txt").write_text("no-such-package-xyz==9\n")
    subprocess.run([*GIT, "add", "-A"], cwd=repo, check=True)
    subprocess.run([*GIT, "commit", "-qm", "deps"], cwd=repo, check=True)
    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    out = tmp_path / "analysis.json"
    subprocess.run([str(BIN / "conductor"), "analyze", "--codebase", str(repo), "-o", str(out)],
                   env=env, check=True, capture_output=True)  # fmt: skip
    run = subprocess.run([str(BIN / "conductor"), "implement", "--analysis", str(out)],
                         env=env, capture_output=True, text=True)  # fmt: skip
    assert run.returncode == 3, run.stderr
    assert "no-such-package-xyz" in run.stderr
    assert "pip install" in run.stderr
    assert "Traceback" not in run.stderr
    rows = open_audit_log(get_settings()).query(action="environment", limit=5)
    assert [r.status for r in rows] == ["failed"]


def test_cli_shows_progress_on_a_terminal_and_stays_quiet_when_piped(
    repo: Path, tmp_path: Path, conductor_home: Path
) -> None:
    import os
    import pty

    env = cli_env("http://127.0.0.1:9/api", conductor_home)
    out = tmp_path / "analysis.json"
    subprocess.run([str(BIN / "conductor"), "analyze", "--codebase", str(repo), "-o", str(out)],
                   env=env, check=True, capture_output=True)  # fmt: skip
    argv = [str(BIN / "conductor"), "implement", "--analysis", str(out)]
    piped = subprocess.run(argv, env=env, capture_output=True, text=True)
    assert piped.returncode == 0, piped.stderr
    assert json.loads(piped.stdout)["changes"]  # machine-readable
    assert "implement: changes" not in piped.stderr  # no live view when piped
    primary, secondary = pty.openpty()
    proc = subprocess.Popen(argv, env={**env, "COLUMNS": "160", "TERM": "xterm"},
                            stdin=secondary, stdout=secondary, stderr=secondary)  # fmt: skip
    os.close(secondary)
    seen = b""
    while True:
        try:
            chunk = os.read(primary, 65536)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    assert proc.wait(timeout=300) == 0
    text = seen.decode("utf-8", "replace")
    assert "implement: changes" in text  # the live bar: phase, done/total, kept/discarded
    assert "kept 0 · discarded 0" in text
