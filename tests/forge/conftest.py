"""Real repositories for the publishing tests: a bare remote, a project with a fixable finding
pushed to it, and helpers to run the real `conductor` CLI against them."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import BIN
from tests.forge._githttp import GitHttpServer
from tests.forge._github import NAME, OWNER, GitHubStandIn

TOKEN = f"ghs_PLANTED{secrets.token_hex(8)}"
APP = "import os\nimport sys\n\n\ndef main() -> int:\n    return 1\n"
"""Two findings ruff fixes safely (F401 unused imports) in one file."""
UTIL = "import json\n\n\ndef util() -> int:\n    return 2\n"


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "dev", "GIT_AUTHOR_EMAIL": "dev@example.invalid",
           "GIT_COMMITTER_NAME": "dev", "GIT_COMMITTER_EMAIL": "dev@example.invalid"}  # fmt: skip
    out = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True,
                         check=False)  # fmt: skip
    assert out.returncode == 0, f"git {args}: {out.stderr}"
    return out.stdout.strip()


@dataclass
class Setup:
    root: Path
    project: Path
    bare: Path
    home: Path

    def env(self, **extra: str) -> dict[str, str]:
        ours = ("CONDUCTOR_", "GITHUB_", "GITLAB_", "GITEA_", "CI_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
        env.update(CONDUCTOR_HOME=str(self.home), NO_COLOR="1", COLUMNS="200", **extra)
        return env

    def conductor(self, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(BIN / "conductor"), *args], cwd=self.project,
                              env=self.env(**extra), capture_output=True, text=True,
                              timeout=600, check=False)  # fmt: skip

    def analyze(self) -> Path:
        out = self.root / "analysis.json"
        done = self.conductor("analyze", "--codebase", str(self.project), "--output", str(out))
        assert done.returncode == 0, done.stderr
        return out

    def remote_branch(self, branch: str) -> str | None:
        argv = ["git", "rev-parse", "-q", "--verify", f"refs/heads/{branch}"]
        out = subprocess.run(argv, cwd=self.bare, capture_output=True, text=True, check=False)
        return out.stdout.strip() or None


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    remotes = tmp_path / "remotes"
    bare = remotes / f"{NAME}.git"
    bare.mkdir(parents=True)
    git(bare, "init", "-q", "--bare", "-b", "main")
    project = tmp_path / "shop"
    project.mkdir()
    (project / "app.py").write_text(APP)
    (project / "util.py").write_text(UTIL)
    git(project, "init", "-q", "-b", "main")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "initial")
    git(project, "remote", "add", "origin", bare.as_uri())
    git(project, "push", "-q", "origin", "main")
    return Setup(tmp_path, project, bare, tmp_path / "home")


@pytest.fixture
def github(setup: Setup) -> Iterator[GitHubStandIn]:
    server = GitHubStandIn(setup.bare, TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def git_http(setup: Setup) -> Iterator[GitHttpServer]:
    server = GitHttpServer(setup.bare.parent, "x-access-token", TOKEN).start()
    yield server
    server.stop()


def github_env(server: GitHubStandIn) -> dict[str, str]:
    return {"GITHUB_API_URL": server.url, "GITHUB_REPOSITORY": f"{OWNER}/{NAME}",
            "GITHUB_TOKEN": TOKEN}  # fmt: skip


def report(done: subprocess.CompletedProcess[str]) -> dict[str, object]:
    assert done.returncode == 0, done.stderr
    data: dict[str, object] = json.loads(done.stdout)
    return data
