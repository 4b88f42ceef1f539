"""The forge token never leaks while publishing: not to output, the audit log, patches, the
repository (``.git``, its config, remote URLs), the pushed branch, pull-request bodies or review
comments, and never onto a command line (visible in ``ps``).

A distinctive token is planted as GITHUB_TOKEN; implement and refine publish over smart HTTP
(Basic authentication with that token), then analyze reviews the pull request. Everything the
runs leave is scanned for the token and its Basic-auth encoding, and the amount scanned is
asserted (a scan of nothing proves nothing).
"""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.forge._githttp import GitHttpServer
from tests.forge._github import GitHubStandIn
from tests.forge.conftest import TOKEN, Setup, git, github_env

pytestmark = pytest.mark.slow

NEEDLES = [TOKEN, base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()]


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_the_token_appears_nowhere(
    setup: Setup, github: GitHubStandIn, git_http: GitHttpServer
) -> None:
    (setup.project / "messy.py").write_text("import sys,os\nx = {  'a':1 }\n")
    git(setup.project, "add", "-A")
    git(setup.project, "commit", "-qm", "messy")
    git(setup.project, "push", "-q", "origin", "main")
    git(setup.project, "remote", "set-url", "origin", git_http.url("shop"))
    env = github_env(github)
    outputs = []
    for args in (
        ("implement", "--analysis", str(setup.analyze()), "--publish", "--forge", "github"),
        ("refine", "--codebase", str(setup.project), "--no-types", "--all-files", "--publish",
         "--forge", "github"),
    ):  # fmt: skip
        done = setup.conductor(*args, **env)
        assert done.returncode == 0, done.stderr
        outputs += [done.stdout, done.stderr]
    git(setup.project, "checkout", "-q", "-b", "feature")
    (setup.project / "more.py").write_text("def f(x):\n    return eval(x)\n")
    git(setup.project, "add", "-A")
    git(setup.project, "commit", "-qm", "more")
    git(setup.project, "push", "-q", setup.bare.as_uri(), "feature")
    github.pulls[9] = type(github.pulls[1])(9, "feature", "", "feature", "main", False)
    done = setup.conductor("analyze", "--codebase", str(setup.project), "--diff-base", "main",
                           "--publish", "--forge", "github", "--pull", "9", **env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    outputs += [done.stdout, done.stderr]
    assert len(github.pulls) == 3
    assert github.reviews

    texts: dict[str, str] = {f"output {i}": o for i, o in enumerate(outputs)}
    for root in (setup.home, setup.project / ".git", setup.bare):
        for path in _files(root):
            texts[str(path)] = path.read_bytes().decode("latin-1")
    texts["pull requests"] = repr([vars(p) for p in github.pulls.values()])
    texts["reviews"] = repr(github.reviews) + repr(github.comments)
    texts["requests to the forge"] = repr([c.body for c in github.calls])
    for name in ("conductor.db", "config"):
        assert any(Path(k).name == name for k in texts), f"nothing scanned named {name}"
    assert sum(len(t) for t in texts.values()) > 100_000
    leaks = [where for where, text in texts.items() for n in NEEDLES if n in text]
    assert leaks == []
    assert git(setup.project, "remote", "get-url", "origin") == git_http.url("shop")


def test_the_token_is_never_on_a_command_line(
    setup: Setup, github: GitHubStandIn, git_http: GitHttpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Every git the publisher starts is watched: the token is in its environment only."""
    from ai_conductor.publish.gitops import Credentials, Git, parse_remote

    seen: list[tuple[list[str], dict[str, str]]] = []
    real = subprocess.run

    def spy(argv: Any, *args: Any, **kw: Any) -> Any:
        seen.append((list(argv), dict(kw.get("env") or {})))
        return real(argv, *args, **kw)

    monkeypatch.setattr(subprocess, "run", spy)
    from pydantic import SecretStr

    remote = parse_remote("origin", git_http.url("shop"))
    creds = Credentials("x-access-token", SecretStr(TOKEN))
    client = Git(setup.project, remote, creds)
    heads = client.remote_heads("main")
    client.push(heads["main"], "copy-of-main", None)
    assert setup.remote_branch("copy-of-main") == heads["main"]
    network = [(argv, env) for argv, env in seen if argv[:2] in (["git", "ls-remote"],
                                                                  ["git", "push"])]  # fmt: skip
    assert len(network) == 2
    for argv, env in network:
        assert not any(n in " ".join(argv) for n in NEEDLES)
        assert any(NEEDLES[1] in v for v in env.values())  # it is in git's environment
