"""Model replies that try to write outside the worktree, into ``.git``, or to run commands through
file names: the ``fake`` backend replays them; every one is refused with a reason in the report,
nothing outside the worktree changes and nothing runs. Forged analysis.json paths are refused
by the ``builtin`` backend the same way."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.analysis.models import AnalysisReport
from ai_conductor.implement import ImplementOptions, implement

pytestmark = pytest.mark.usefixtures("conductor_home")

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false",
       "-c", "core.hooksPath=/dev/null"]  # fmt: skip
CORE = "import os\n\n\ndef parse(text):\n    return eval(text)\n"
TESTS = "from calc.core import parse\n\n\ndef test_parse():\n    assert parse('3') == 3\n"


class Scene:
    """A calc repository with links out of the tree, a directory beside it, a fake HOME."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.tmp = tmp_path
        self.mark = tmp_path / "PWNED"
        self.outside = tmp_path / "outside"
        self.outside.mkdir()
        (self.outside / "victim.py").write_text("secret = 1\n")
        self.home = tmp_path / "home"
        self.home.mkdir()
        (self.home / "canary").write_text("alive\n")
        monkeypatch.setenv("HOME", str(self.home))
        self.repo = tmp_path / "calc-repo"
        files = {
            "calc/__init__.py": "",
            "calc/core.py": CORE,
            "tests/test_core.py": TESTS,
            "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
        }
        for rel, text in files.items():
            (self.repo / rel).parent.mkdir(parents=True, exist_ok=True)
            (self.repo / rel).write_text(text)
        os.symlink(self.outside / "victim.py", self.repo / "escape.py")
        os.symlink(self.outside, self.repo / "escape_dir")
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=self.repo, check=True)
        subprocess.run([*GIT, "add", "-A"], cwd=self.repo, check=True)
        subprocess.run([*GIT, "commit", "-qm", "init"], cwd=self.repo, check=True)
        script = tmp_path / "trap.sh"  # a filter the repository defines; a reply may map to it
        script.write_text(f"#!/bin/sh\necho filter >> {self.mark}\ncat\n")
        script.chmod(0o755)
        subprocess.run(["git", "config", "filter.evil.clean", str(script)], cwd=self.repo,
                       check=True)  # fmt: skip
        subprocess.run(["git", "config", "filter.evil.smudge", str(script)], cwd=self.repo,
                       check=True)  # fmt: skip
        self.before = self.snapshot()

    def snapshot(self) -> dict[str, str]:
        """Digests of every file outside the conductor's own worktrees."""
        out: dict[str, str] = {}
        for base in (self.outside, self.repo, Path("/etc/passwd")):  # HOME gets caches
            paths = [base] if base.is_file() else sorted(base.rglob("*"))
            for path in paths:
                if ".git" in path.relative_to(base).parts if base.is_dir() else False:
                    continue
                if path.is_file() and not path.is_symlink():
                    out[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
        return out

    def assert_untouched(self) -> None:
        assert self.snapshot() == self.before
        assert not self.mark.exists(), self.mark.read_text()
        assert (self.home / "canary").read_text() == "alive\n"
        status = subprocess.run([*GIT, "-c", "filter.evil.clean=", "-c", "filter.evil.smudge=",
                                 "status", "--porcelain"], cwd=self.repo, capture_output=True,
                                text=True, check=True)  # fmt: skip
        assert status.stdout == ""
        strays = [p for p in self.tmp.rglob("*") if "$(" in p.name or "rm -rf" in p.name]
        assert not strays, strays


@pytest.fixture
def scene(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Scene:
    return Scene(tmp_path, monkeypatch)


def _cases(scene: Scene) -> list[tuple[str, dict[str, str], str]]:
    m = scene.mark
    return [
        ("parent", {"path": "../outside.py", "search": "", "replace": "x = 1\n"}, "'..'"),
        (
            "deep-parent",
            {"path": "calc/../../outside/victim.py", "search": "secret", "replace": "pwned"},
            "'..'",
        ),
        ("etc-passwd", {"path": "/etc/passwd", "search": "root", "replace": "toor"}, "absolute"),
        (
            "absolute",
            {"path": str(scene.outside / "victim.py"), "search": "secret", "replace": "pwned"},
            "absolute",
        ),
        ("home", {"path": "~/.bashrc", "search": "", "replace": f"touch {m}\n"}, "outside its"),
        (
            "link-file",
            {"path": "escape.py", "search": "secret", "replace": "pwned"},
            "outside the workspace",
        ),
        (
            "link-dir",
            {"path": "escape_dir/new.py", "search": "", "replace": "x = 1\n"},
            "outside the workspace",
        ),
        (
            "hook",
            {"path": ".git/hooks/post-commit", "search": "", "replace": f"#!/bin/sh\ntouch {m}\n"},
            ".git",
        ),
        (
            "git-config",
            {"path": ".git/config", "search": "", "replace": f"[core]\n\tfsmonitor = touch {m}\n"},
            ".git",
        ),
        ("git-upper", {"path": ".GIT/config", "search": "", "replace": "x"}, ".git"),
        ("nul", {"path": "calc/core.py\0.txt", "search": "", "replace": "x"}, "not a relative"),
        ("windows", {"path": "C:\\Windows\\x.py", "search": "", "replace": "x"}, "not a relative"),
        ("subst", {"path": f"$(touch {m}).py", "search": "", "replace": "x = 1\n"}, "outside its"),
        ("backticks", {"path": f"`touch {m}`.py", "search": "", "replace": "x"}, "outside its"),
        ("rm-home", {"path": "; rm -rf ~", "search": "", "replace": "x"}, "outside its"),
        ("newline", {"path": f"x.py\n; touch {m}", "search": "", "replace": "x"}, "outside its"),
        (
            "conftest",
            {
                "path": "conftest.py",
                "search": "",
                "replace": f"import os\nos.system('touch {m}')\n",
            },
            "outside its",
        ),
        (
            "test-file",
            {
                "path": "tests/test_core.py",
                "search": "assert",
                "replace": f"__import__('os').system('touch {m}')\n    assert",
            },
            "outside its",
        ),
        (
            "gitattributes",
            {"path": ".gitattributes", "search": "", "replace": "* filter=evil\n"},
            "outside its",
        ),
        (
            "pyproject",
            {
                "path": "pyproject.toml",
                "search": "testpaths",
                "replace": "addopts = '-p no:x'\ntestpaths",
            },
            "outside its",
        ),
    ]


CASE_IDS = [
    "parent", "deep-parent", "etc-passwd", "absolute", "home", "link-file", "link-dir", "hook",
    "git-config", "git-upper", "nul", "windows", "subst", "backticks", "rm-home", "newline",
    "conftest", "test-file", "gitattributes", "pyproject",
]  # fmt: skip


@pytest.mark.parametrize("case", CASE_IDS)
def test_a_hostile_reply_is_refused_and_nothing_outside_changes(scene: Scene, case: str) -> None:
    _, edit, why = next(c for c in _cases(scene) if c[0] == case)
    analysis = analyze(scene.repo)
    assert any(f.path == "calc/core.py" and f.category == "security" for f in analysis.findings)
    options = ImplementOptions(backend="fake", backend_options={"script": [[edit]]}, attempts=1,
                               focus=["security"])  # fmt: skip
    report = implement(analysis, scene.repo, options)
    (change,) = report.changes
    assert change.status.value in ("error", "discarded"), change
    assert change.branch is None
    (attempt,) = change.attempts
    assert why in attempt.reason, attempt.reason
    written = json.loads(json.dumps(report.model_dump(mode="json")))  # the report says why
    assert written["changes"][0]["attempts"][0]["reason"] == attempt.reason
    scene.assert_untouched()


def _forged(analysis: AnalysisReport, path: str) -> AnalysisReport:
    finding = next(f for f in analysis.findings if f.rule_id == "F401")
    forged = finding.model_copy(update={"path": path, "fingerprint": "forged-" + path})
    return analysis.model_copy(update={"findings": [forged]})


@pytest.mark.parametrize(
    "path",
    ["../outside/victim.py", "/etc/passwd", "escape.py", "escape_dir/victim.py", ".git/config",
     "calc/../../outside/victim.py"],
)  # fmt: skip
def test_builtin_backend_refuses_forged_finding_paths(scene: Scene, path: str) -> None:
    """A hand-edited analysis.json pointing ruff at files outside the worktree."""
    report = implement(_forged(analyze(scene.repo), path), scene.repo,
                       ImplementOptions(backend="builtin", attempts=2))  # fmt: skip
    (change,) = report.changes
    assert change.status.value == "error", change
    assert "bad finding path" in change.attempts[-1].reason
    assert len(change.attempts) == 1, "deterministic refusals are not retried"
    scene.assert_untouched()


def test_the_forged_cases_can_fail(scene: Scene) -> None:
    """The scene's checks see a change outside the worktree (so they can fail)."""
    (scene.outside / "victim.py").write_text("changed = 1\n")
    with pytest.raises(AssertionError):
        scene.assert_untouched()


def test_an_agent_cli_writing_paths_git_refuses_fails_its_attempt_not_the_run(
    scene: Scene, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The ``command`` backend runs an agent CLI that writes files itself: one that leaves a
    path git will not add (``.GIT/config``) gets its attempt refused, and the run goes on."""
    from tests.implement.test_command_backend import CLAUDE_RESULT, standin

    bin_dir = tmp_path / "agent-bin"
    bin_dir.mkdir()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    standin(bin_dir, "claude", f"""
        pathlib.Path(".GIT").mkdir(exist_ok=True)
        pathlib.Path(".GIT/config").write_text("[core]\\n\\tfsmonitor = touch {scene.mark}\\n")
        print(json.dumps({CLAUDE_RESULT!r}))
    """)  # fmt: skip
    options = ImplementOptions(backend="command", backend_options={"preset": "claude"},
                               focus=["security"], attempts=2)  # fmt: skip
    report = implement(analyze(scene.repo), scene.repo, options)
    (change,) = report.changes
    assert change.status.value == "error", change
    assert [a.status.value for a in change.attempts] == ["error", "error"]
    assert "invalid path '.GIT/config'" in change.attempts[0].reason
    scene.assert_untouched()
