"""`conductor implement --publish` end to end: real git pushes (smart HTTP behind Basic auth,
and file://) and a GitHub stand-in whose every response validates against githubkit's models."""

from __future__ import annotations

import re
from pathlib import Path

from tests.forge._githttp import GitHttpServer
from tests.forge._github import GitHubStandIn
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
    assert published["status"] == "opened"
    assert published["pushed"] is True
    assert published["base"] == "main"
    assert published["branch"] == BRANCH
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
    assert (pull.head, pull.base, pull.draft, pull.labels) == (
        BRANCH,
        "main",
        False,
        ["ai-conductor"],
    )
    assert "`ruff/F401`" in pull.body
    assert "`app.py:1`" in pull.body
    assert "<!-- ai-conductor:publication implement/implement -->" in pull.body
    created = github.made("POST", r"/repos/acme/shop/pulls")
    assert [c.body["head"] for c in created] == [BRANCH]
    assert all(c.headers["authorization"] == f"token {TOKEN}" for c in github.calls)
    # git authenticated with Basic credentials, sent by the conductor's git only
    assert git_http.expected in git_http.seen

    second = report(setup.conductor(*args, **github_env(github)))
    again = second["published"]
    assert isinstance(again, dict)
    assert again["status"] == "unchanged"
    assert again["pushed"] is False
    assert setup.remote_branch(BRANCH) == tip
    assert len(github.pulls) == 1
    assert len(github.made("PATCH", r"/repos/acme/shop/pulls/1")) == 1
    assert len(github.made("POST", r"/repos/acme/shop/pulls")) == 1
    assert github.errors == []

    config = (setup.project / ".git" / "config").read_text()
    assert TOKEN not in config
    assert git(setup.project, "remote", "get-url", "origin") == git_http.url("shop")


def test_a_remote_branch_with_someone_elses_commit_is_never_overwritten(
    setup: Setup, github: GitHubStandIn
) -> None:
    analysis = setup.analyze()
    args = ("implement", "--analysis", str(analysis), "--publish", "--forge", "github")
    assert setup.conductor(*args, **github_env(github)).returncode == 0
    # a person pushes a commit of their own onto the conductor's branch
    other = setup.root / "other"
    git(setup.root, "clone", "-q", "-b", BRANCH, setup.bare.as_uri(), str(other))
    (other / "NOTES.md").write_text("mine\n")
    git(other, "add", "-A")
    git(other, "commit", "-q", "-m", "a note of mine")
    git(other, "push", "-q", "origin", BRANCH)
    theirs = setup.remote_branch(BRANCH)
    (setup.project / "util.py").write_text("import json\nimport re\n\n\ndef util() -> int:\n"
                                           "    return 2\n")  # fmt: skip
    git(setup.project, "commit", "-qam", "another finding")
    git(setup.project, "push", "-q", "origin", "main")
    done = setup.conductor(*args[:2], str(setup.analyze()), *args[3:], **github_env(github))
    assert done.returncode == 2, done.stderr
    assert "did not make: not overwriting it" in done.stderr
    assert "a note of mine" in done.stderr
    assert setup.remote_branch(BRANCH) == theirs
    assert len(github.pulls) == 1
    assert len(github.made("PATCH", r"/repos/acme/shop/pulls/1")) == 0


def test_nothing_kept_pushes_nothing_and_leaves_the_open_pull_request(
    setup: Setup, github: GitHubStandIn
) -> None:
    analysis = setup.analyze()
    args = ("implement", "--analysis", str(analysis), "--publish", "--forge", "github", "--json")
    assert report(setup.conductor(*args, **github_env(github)))["published"]
    tip, calls = setup.remote_branch(BRANCH), len(github.calls)
    # the fixes are merged: a new analysis has nothing to fix
    git(setup.project, "fetch", "-q", "origin", BRANCH)
    git(setup.project, "merge", "-q", "--ff-only", "FETCH_HEAD")
    data = report(setup.conductor(*args[:2], str(setup.analyze()), *args[3:],
                                  **github_env(github)))  # fmt: skip
    published = data["published"]
    assert isinstance(published, dict)
    assert published["status"] == "nothing"
    assert published["pull_request"] is None
    assert setup.remote_branch(BRANCH) == tip
    assert len(github.calls) == calls  # the open pull request was not touched
    assert github.pulls[1].state == "open"


def test_refine_publishes_its_tidy_up_as_a_draft_over_file_url(
    setup: Setup, github: GitHubStandIn
) -> None:
    (setup.project / "messy.py").write_text("import sys,os\nx = {  'a':1 }\n")
    git(setup.project, "add", "-A")
    git(setup.project, "commit", "-qm", "messy")
    git(setup.project, "push", "-q", "origin", "main")
    data = report(setup.conductor("refine", "--codebase", str(setup.project), "--no-types",
                                  "--publish", "--forge", "github", "--draft", "--label",
                                  "tidy", "--json", **github_env(github)))  # fmt: skip
    published = data["published"]
    assert isinstance(published, dict)
    assert published["status"] == "opened", published
    assert github.errors == []
    pull = github.pulls[1]
    assert (pull.head, pull.draft, pull.labels) == ("conductor/refine/refine", True, ["tidy"])
    message = git(setup.bare, "log", "-1", "--format=%B", "conductor/refine/refine")
    assert message.startswith("conductor: tidy formatting and import order")
    assert "Conductor-Change: tidy:tidy" in message


def test_a_header_left_in_the_repository_config_is_not_sent_beside_ours(
    setup: Setup, github: GitHubStandIn, git_http: GitHttpServer
) -> None:
    """actions/checkout persists ``http.<url>.extraheader`` with its own token: publishing with
    another token must send only its own Authorization header."""
    url = git_http.url("shop")
    git(setup.project, "remote", "set-url", "origin", url)
    prefix = url.split("/shop.git")[0] + "/"
    git(setup.project, "config", f"http.{prefix}.extraheader",
        "AUTHORIZATION: basic eC1hY2Nlc3MtdG9rZW46c3RhbGU=")  # fmt: skip
    args = ("implement", "--analysis", str(setup.analyze()), "--publish", "--forge", "github")
    done = setup.conductor(*args, **github_env(github))
    assert done.returncode == 0, done.stderr
    assert setup.remote_branch(BRANCH) is not None
    assert git_http.expected in git_http.seen


def test_publishing_a_directory_that_is_not_a_repository_is_a_clear_error(
    setup: Setup, github: GitHubStandIn, tmp_path: Path
) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "app.py").write_text((setup.project / "app.py").read_text())
    out = tmp_path / "a.json"
    analyzed = setup.conductor("analyze", "--codebase", str(plain), "--output", str(out))
    assert analyzed.returncode == 0
    done = setup.conductor("implement", "--analysis", str(out), "--publish", "--forge", "github",
                           **github_env(github))  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "--publish needs a git repository with a remote" in done.stderr
    assert "Traceback" not in done.stderr
    assert github.calls == []
