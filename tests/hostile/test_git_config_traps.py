"""A repository whose hooks and ``.git/config`` name programs (fsmonitor, clean/smudge filters,
an external diff, textconv, gpg, pager, editor, ssh): `conductor analyze`, `implement` (worktrees,
commits, --apply) and `refine` (tidy-up on a branch, --apply) never run any of them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, cli_env

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("conductor_home")]

GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false",
       "-c", "core.hooksPath=/dev/null"]  # fmt: skip
SAFE_GIT = [*GIT, "-c", "core.fsmonitor=false", "-c", "filter.trap.clean=", "-c",
            "filter.trap.smudge=", "-c", "filter.trap.required=false"]  # fmt: skip
HOOKS = (
    "applypatch-msg", "pre-applypatch", "post-applypatch", "pre-commit", "pre-merge-commit",
    "prepare-commit-msg", "commit-msg", "post-commit", "pre-rebase", "post-checkout",
    "post-merge", "pre-push", "pre-receive", "update", "proc-receive", "post-receive",
    "post-update", "reference-transaction", "push-to-checkout", "pre-auto-gc", "post-rewrite",
    "sendemail-validate", "fsmonitor-watchman", "post-index-change",
)  # fmt: skip
CORE = "import os\n\n\ndef label():\n    return f'calc'\n\n\ndef add(a,b):\n    return a+b\n"
TESTS = "from calc.core import add, label\n\n\ndef test_add():\n    assert add(2, 3) == 5\n"


def _trap(folder: Path, marker: Path, name: str) -> str:
    """A program that records that ``name`` ran (and passes data through, for filters)."""
    folder.mkdir(exist_ok=True)
    script = folder / name
    script.write_text(f"#!/bin/sh\necho {name} >> {marker}\ncat\n")
    script.chmod(0o755)
    return str(script)


def trapped_repo(root: Path, marker: Path) -> Path:
    files = {
        "calc/__init__.py": "",
        "calc/core.py": CORE,
        "tests/test_core.py": TESTS,
        "pyproject.toml": "[tool.pytest.ini_options]\ntestpaths = ['tests']\n",
        ".gitattributes": "* filter=trap diff=trap merge=trap\n",
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
    subprocess.run([*GIT, "add", "-A"], cwd=root, check=True)
    subprocess.run([*GIT, "commit", "-qm", "init"], cwd=root, check=True)
    hooks = root / ".git" / "hooks"
    evil_hooks = root / ".git" / "evil-hooks"
    evil_hooks.mkdir()
    for folder in (hooks, evil_hooks):
        for name in HOOKS:
            script = folder / name
            script.write_text(f"#!/bin/sh\necho hook:{folder.name}/{name} >> {marker}\n")
            script.chmod(0o755)
    traps = root / ".git" / "traps"
    config = {
        "core.hooksPath": str(evil_hooks),
        "gc.auto": "1",
        "commit.gpgsign": "true",
        "log.showSignature": "true",
        "filter.trap.required": "true",
        "credential.helper": "!" + _trap(traps, marker, "credential"),
    }
    for key, name in (
        ("core.fsmonitor", "fsmonitor"), ("filter.trap.clean", "filter-clean"),
        ("filter.trap.smudge", "filter-smudge"),
        ("diff.external", "diff-external"), ("diff.trap.textconv", "textconv"),
        ("diff.trap.command", "diff-command"), ("merge.trap.driver", "merge-driver"),
        ("core.pager", "pager"), ("core.editor", "editor"), ("sequence.editor", "seq-editor"),
        ("core.sshCommand", "ssh"), ("core.askPass", "askpass"), ("gpg.program", "gpg"),
        ("gpg.ssh.program", "gpg-ssh"), ("core.alternateRefsCommand", "alternate-refs"),
    ):  # fmt: skip
        config[key] = _trap(traps, marker, name)
    for key, value in config.items():
        subprocess.run(["git", "config", key, value], cwd=root, check=True)
    return root


def _prove_traps_are_live(repo: Path, marker: Path) -> None:
    """Plain git in this repository does run the traps (else the test could not fail)."""
    (repo / "calc" / "core.py").write_text(CORE + "# touched\n")
    subprocess.run(["git", "status", "--porcelain"], cwd=repo, capture_output=True)
    subprocess.run(["git", "add", "-A"], cwd=repo, capture_output=True)
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "x"],
                   cwd=repo, capture_output=True)  # fmt: skip
    ran = set(marker.read_text().split()) if marker.exists() else set()
    assert {"fsmonitor", "filter-clean", "hook:evil-hooks/pre-commit", "gpg"} <= ran, ran
    subprocess.run([*SAFE_GIT, "reset", "-q", "--hard"], cwd=repo, capture_output=True)
    marker.unlink()
    clean = subprocess.run([*SAFE_GIT, "status", "--porcelain"], cwd=repo, capture_output=True,
                           text=True)  # fmt: skip
    assert clean.stdout == ""
    assert not marker.exists()


def _ran(marker: Path) -> str:
    return marker.read_text() if marker.exists() else ""


def test_no_repository_program_runs_under_analyze_implement_and_refine(
    tmp_path: Path, conductor_home: Path
) -> None:
    marker = tmp_path / "MARKER"
    repo = trapped_repo(tmp_path / "trapped", marker)
    _prove_traps_are_live(repo, marker)
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                          text=True).stdout  # fmt: skip
    env = cli_env("http://127.0.0.1:9/api", conductor_home)

    def conductor(*args: str, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(BIN / "conductor"), *args], env=env, capture_output=True,
                              text=True, timeout=600)  # fmt: skip
        assert proc.returncode in ok, (args, proc.returncode, proc.stderr[-3000:])
        assert "Traceback" not in proc.stderr
        assert _ran(marker) == "", f"{args[0]} ran repository programs: {_ran(marker)}"
        return proc

    analysis = tmp_path / "analysis.json"
    conductor("analyze", "--codebase", str(repo), "-o", str(analysis))
    findings = json.loads(analysis.read_text())["findings"]
    assert any(f["fixable"] for f in findings), findings

    kept = json.loads(conductor("implement", "--analysis", str(analysis)).stdout)
    assert kept["changes"], kept
    assert {c["status"] for c in kept["changes"]} == {"kept"}, kept
    applied = json.loads(conductor("implement", "--analysis", str(analysis), "--apply").stdout)
    assert applied["applied"], applied
    assert "import os as os\n" in (repo / "calc" / "core.py").read_text()  # kept as a re-export

    subprocess.run([*SAFE_GIT, "commit", "-qam", "fixed"], cwd=repo, check=True)
    refined = conductor("refine", "--codebase", str(repo), "--no-types", "--apply")
    assert "a+b" not in (repo / "calc" / "core.py").read_text(), refined.stderr[-2000:]
    assert _ran(marker) == ""
    log = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", "log", "--format=%H"],
                         cwd=repo, capture_output=True, text=True).stdout  # fmt: skip
    assert head.strip() in log
