"""`conductor implement --publish` end to end: real git pushes (smart HTTP behind Basic auth,
and file://) and a GitHub stand-in whose every response validates against githubkit's models."""

from __future__ import annotations

import re

from tests.forge._github import GitHubStandIn
from tests.forge._githttp import GitHttpServer
from tests.forge.conftest import TOKEN, Setup, git, github_env, report

BRANCH = "conductor/implement/implement"


def test_publish_over_smart_http_opens_one_pull_request_and_updates_it(
    setup: Setup, github: GitHubStandIn, git_http: GitHttpServer
) -> None:
    git(setup.project, "remote", "set-url", "origin", git_http.url("shop"))
    analysis = setup.analyze()
    args = ("implement", "--analysis", str(analysis), "--publish", "--forge", "github", "--json")
    first = report(setup.conductor(*args, **github_env(github)))

    published = first["published"]
    assert isinstance(published, dict)
    assert published["status"] == "opened" and published["pushed"] is True
    assert published["base"] == "main" and published["branch"] == BRANCH
    tip = setup.remote_branch(BRANCH)
    assert tip is not None
    log = git(setup.bare, "log", "--format=%s%n%b%x00", f"main..{BRANCH}").split("\0")
    commits = [c.strip() for c in log if c.strip()]
    assert len(commits) == 2  # one per verified change (app.py, util.py)
    for message in commits:
        assert message.startswith("conductor: ")
        assert re.search(r"^- ruff/F401 at (app|util)\.py:1: ", message, re.MULTILINE), message
        for trailer in ("Conductor-Run", "Conductor-Change", "Conductor-Findings",
                        "Conductor-Publication"):  # fmt: skip
            assert re.search(rf"^{trailer}: \S", message, re.MULTILINE), (trailer, message)

    assert github.errors == []
    assert len(github.pulls) == 1
    pull = github.pulls[1]
    assert (pull.head, pull.base, pull.draft, pull.labels) == (BRANCH, "main", False,
                                                               ["ai-conductor"])
    assert "`ruff/F401`" in pull.body and "`app.py:1`" in pull.body
    assert "<!-- ai-conductor:publication implement/implement -->" in pull.body
    created = github.made("POST", r"/repos/acme/shop/pulls")
    assert [c.body["head"] for c in created] == [BRANCH]
    assert all(c.headers["authorization"] == f"token {TOKEN}" for c in github.calls)
    # git authenticated with Basic credentials, sent by the conductor's git only
    assert git_http.expected in git_http.seen

    second = report(setup.conductor(*args, **github_env(github)))
    again = second["published"]
    assert isinstance(again, dict)
    assert again["status"] == "unchanged" and again["pushed"] is False
    assert setup.remote_branch(BRANCH) == tip
    assert len(github.pulls) == 1
    assert len(github.made("PATCH", r"/repos/acme/shop/pulls/1")) == 1
    assert len(github.made("POST", r"/repos/acme/shop/pulls")) == 1
    assert github.errors == []

    config = (setup.project / ".git" / "config").read_text()
    assert TOKEN not in config
    assert git(setup.project, "remote", "get-url", "origin") == git_http.url("shop")
