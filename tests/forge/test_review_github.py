"""`conductor analyze --diff-base REF [--publish]`: only the changed lines, and one review on the
pull request (GitHub stand-in) that a re-run updates instead of duplicating."""

from __future__ import annotations

import json

from tests.forge._github import GitHubStandIn, Pull
from tests.forge.conftest import Setup, git, github_env

NEW_FINDING = (
    "import subprocess\n\n\ndef run(c: str) -> int:\n    return subprocess.call(c, shell=True)\n"
)


def _feature(setup: Setup) -> None:
    """A branch adding a finding to util.py, a new file with one, and an uncommitted one."""
    git(setup.project, "checkout", "-q", "-b", "feature")
    (setup.project / "util.py").write_text(
        "import json\n\n\ndef util() -> int:\n    return 2\n\n\ndef more(x):\n    return eval(x)\n"
    )
    (setup.project / "runner.py").write_text(NEW_FINDING)
    git(setup.project, "add", "-A")
    git(setup.project, "commit", "-qm", "feature")
    git(setup.project, "push", "-q", "origin", "feature")


def _analyze(setup: Setup, *extra: str, **env: str) -> tuple[int, dict[str, object], str]:
    done = setup.conductor("analyze", "--codebase", str(setup.project), "--format", "json",
                           "--diff-base", "main", *extra, **env)  # fmt: skip
    return done.returncode, json.loads(done.stdout or "{}"), done.stderr


def test_diff_base_keeps_only_findings_on_changed_lines(setup: Setup) -> None:
    _feature(setup)
    code, report, err = _analyze(setup)
    assert code == 0, err
    where = sorted((f["path"], f["line"]) for f in report["findings"])  # type: ignore[union-attr]
    assert ("app.py", 1) not in where  # unchanged file: its findings are not reported
    assert ("util.py", 1) not in where  # unchanged line of a changed file
    assert ("util.py", 9) in where  # eval on an added line
    assert any(p == "runner.py" for p, _ in where)  # a new file counts whole
    assert report["summary"]["total"] == len(where)  # type: ignore[index]
    bad = setup.conductor("analyze", "--codebase", str(setup.project), "--diff-base", "nope")
    assert bad.returncode == 2
    assert "--diff-base 'nope' is not a commit" in bad.stderr


def test_publish_posts_one_review_and_updates_it_on_reruns(
    setup: Setup, github: GitHubStandIn
) -> None:
    _feature(setup)
    github.pulls[1] = Pull(1, "feature", "", "feature", "main", False)
    env = {**github_env(github), "GITHUB_REF": "refs/pull/1/merge"}
    code, report, err = _analyze(setup, "--publish", "--forge", "github", **env)
    assert code == 0, err
    assert "review created on pull request #1" in err
    assert github.errors == []
    (review,) = github.reviews.values()
    assert "<!-- ai-conductor:review -->" in review["body"]
    assert review["commit_id"] == git(setup.project, "rev-parse", "feature")
    findings = report["findings"]
    assert isinstance(findings, list)
    assert len(github.comments) == len(findings) > 0
    assert {c["path"] for c in github.comments.values()} == {"util.py", "runner.py"}

    code, _, err = _analyze(setup, "--publish", "--forge", "github", "--pull", "1",
                            **github_env(github))  # fmt: skip
    assert code == 0, err
    assert len(github.reviews) == 1  # updated in place, not a second review
    assert len(github.made("PUT", r"/repos/acme/shop/pulls/1/reviews/\d+")) == 1
    assert len(github.comments) == len(findings)
    assert "0 comment(s) posted" in err

    # the eval finding is fixed: its comment goes, the summary says so
    (setup.project / "util.py").write_text("import json\n\n\ndef util() -> int:\n    return 2\n")
    git(setup.project, "commit", "-qam", "fix eval")
    git(setup.project, "push", "-q", "origin", "feature")
    code, _, err = _analyze(setup, "--publish", "--forge", "github", **env)
    assert code == 0, err
    assert len(github.reviews) == 1
    assert not any(c["path"] == "util.py" for c in github.comments.values())
    assert "1 removed" in err
    assert github.errors == []


def test_lists_are_read_page_by_page_to_the_end(setup: Setup, github: GitHubStandIn) -> None:
    from pydantic import SecretStr

    from ai_conductor.forge.config import ForgeConfig
    from ai_conductor.forge.github import GitHubForge
    from tests.forge.conftest import TOKEN

    github.pulls[1] = Pull(1, "t", "", "main", "main", False)
    for i in range(250):
        github.reviews[i + 1] = {"id": i + 1, "pull": 1, "body": f"r{i}", "commit_id": "0" * 40}
    forge = GitHubForge(ForgeConfig("github", github.url, "acme/shop", SecretStr(TOKEN)))
    where = {"owner": "acme", "repo": "shop", "pull_number": 1}
    found = forge._paged("list reviews", forge.gh.rest.pulls.list_reviews, **where)
    assert [r.body for r in found] == [f"r{i}" for i in range(250)]
    pages = github.made("GET", r"/repos/acme/shop/pulls/1/reviews")
    assert [c.query.get("page", "1") for c in pages] == ["1", "2", "3"]
    assert github.errors == []


def test_a_pull_request_opened_a_moment_ago_is_found_by_the_next_lookup(
    github: GitHubStandIn,
) -> None:
    """GitHub's lists are cacheable for 60 s; a process that publishes twice within a minute
    (a worker, the HTTP API, an improve run followed by another) must not read a stale list and
    try to open a second pull request for the same branch."""
    from pydantic import SecretStr

    from ai_conductor.forge.config import ForgeConfig
    from ai_conductor.forge.github import GitHubForge
    from ai_conductor.forge.models import PullRequestDraft
    from tests.forge.conftest import TOKEN

    config = ForgeConfig("github", github.url, "acme/shop", SecretStr(TOKEN))
    assert GitHubForge(config).find_pull_request("main", "main") is None
    opened = GitHubForge(config).open_pull_request(
        PullRequestDraft(head="main", base="main", title="t", body="b"))  # fmt: skip
    found = GitHubForge(config).find_pull_request("main", "main")
    assert found is not None
    assert found.number == opened.number
    assert len(github.made("GET", r"/repos/acme/shop/pulls")) == 2  # both lookups reached GitHub
    assert github.errors == []
