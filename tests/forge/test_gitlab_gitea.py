"""GitLab (python-gitlab) and Gitea/Forgejo (pyforgejo): publishing over smart HTTP with the
forge's token, an idempotent second run, and the review of a merge/pull request."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.forge._gitea import GiteaStandIn, GPull
from tests.forge._githttp import GitHttpServer
from tests.forge._gitlab import GitLabStandIn
from tests.forge.conftest import TOKEN, Setup, git, report
from tests.forge.test_review_github import NEW_FINDING

BRANCH = "conductor/implement/implement"


@dataclass
class Forge:
    name: str
    server: Any
    env: dict[str, str]

    def pulls(self) -> list[dict[str, Any]]:
        if self.name == "gitlab":
            return [{"head": m["source_branch"], "base": m["target_branch"],
                     "title": m["title"], "body": m["description"] or "",
                     "labels": m["labels"]} for m in self.server.mrs.values()]  # fmt: skip
        return [{"head": p.head, "base": p.base, "title": p.title, "body": p.body,
                 "labels": [self.server.labels[i] for i in p.labels]}
                for p in self.server.pulls.values()]  # fmt: skip


@pytest.fixture(params=["gitlab", "gitea"])
def forge(request: pytest.FixtureRequest, setup: Setup) -> Iterator[Forge]:
    if request.param == "gitlab":
        server: Any = GitLabStandIn(setup.bare, TOKEN).start()
        env = {"CI_API_V4_URL": server.url, "CI_PROJECT_PATH": "acme/shop",
               "GITLAB_TOKEN": TOKEN}  # fmt: skip
    else:
        server = GiteaStandIn(setup.bare, TOKEN).start()
        env = {"GITEA_API_URL": server.url, "GITEA_REPOSITORY": "acme/shop",
               "GITEA_TOKEN": TOKEN}  # fmt: skip
    yield Forge(request.param, server, env)
    server.stop()


def test_publish_opens_then_updates_one_request_over_smart_http(setup: Setup, forge: Forge) -> None:
    http = GitHttpServer(setup.bare.parent, "oauth2", TOKEN).start()
    try:
        git(setup.project, "remote", "set-url", "origin", http.url("shop"))
        args = ("implement", "--analysis", str(setup.analyze()), "--publish", "--forge",
                forge.name, "--draft", "--json")  # fmt: skip
        first = report(setup.conductor(*args, **forge.env))
        assert first["published"]["status"] == "opened"  # type: ignore[index]
        assert http.expected in http.seen
        (pull,) = forge.pulls()
        assert (pull["head"], pull["base"]) == (BRANCH, "main")
        assert pull["title"].startswith("Draft: " if forge.name == "gitlab" else "WIP: ")
        assert pull["labels"] == ["ai-conductor"]
        assert "`ruff/F401`" in pull["body"]
        tip = setup.remote_branch(BRANCH)

        again = report(setup.conductor(*args, **forge.env))
        assert again["published"]["status"] == "unchanged"  # type: ignore[index]
        assert setup.remote_branch(BRANCH) == tip
        assert len(forge.pulls()) == 1
        assert forge.pulls()[0]["title"].startswith(("Draft: ", "WIP: "))  # stays a draft
        assert forge.server.errors == []
        assert TOKEN not in (setup.project / ".git" / "config").read_text()
    finally:
        http.stop()


def test_review_is_posted_once_and_updated(setup: Setup, forge: Forge) -> None:
    git(setup.project, "checkout", "-q", "-b", "feature")
    (setup.project / "runner.py").write_text(NEW_FINDING)
    git(setup.project, "add", "-A")
    git(setup.project, "commit", "-qm", "feature")
    git(setup.project, "push", "-q", "origin", "feature")
    if forge.name == "gitlab":
        forge.server.mrs[1] = {"iid": 1, "title": "feature", "state": "opened",
                               "description": "", "source_branch": "feature",
                               "target_branch": "main", "labels": []}  # fmt: skip
    else:
        forge.server.pulls[1] = GPull(1, "feature", "", "feature", "main")
    args = ("analyze", "--codebase", str(setup.project), "--format", "json", "--diff-base",
            "main", "--publish", "--forge", forge.name)  # fmt: skip
    env = {**forge.env, "CI_MERGE_REQUEST_IID": "1"} if forge.name == "gitlab" else forge.env
    done = setup.conductor(*args, **env)  # gitea: found as the open one of the branch
    assert done.returncode == 0, done.stderr
    assert "review created on pull request #1" in done.stderr
    assert forge.server.errors == []
    if forge.name == "gitlab":
        notes = list(forge.server.notes.values())
        inline = [n for n in notes if n.get("position")]
        assert len([n for n in notes if "ai-conductor:review" in n["body"]]) == 1
        places = {(n["position"]["new_path"], n["position"]["new_line"]) for n in inline}
    else:
        (review,) = forge.server.reviews.values()
        inline = review["comments"]
        places = {(c["path"], c["position"]) for c in inline}
    assert inline
    assert ("runner.py", 5) in places  # shell=True on the added line
    assert {path for path, _ in places} == {"runner.py"}

    done = setup.conductor(*args, **env)
    assert done.returncode == 0, done.stderr
    assert forge.server.errors == []
    if forge.name == "gitlab":
        assert len(forge.server.notes) == len(notes)  # summary edited, comments kept
        assert "review updated" in done.stderr
    else:
        assert len(forge.server.reviews) == 1
        assert "review unchanged" in done.stderr
