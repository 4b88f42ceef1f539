"""GitHub (github.com and GitHub Enterprise) through githubkit, the typed GitHub SDK.

Pull requests are found by ``head=owner:branch``, opened as drafts when asked, updated (title,
body) and labelled (labels are added, never removed). A review is one ``COMMENT`` review whose
body (the summary) carries the conductor's marker; on a re-run that body is rewritten in place
and the inline comments are reconciled (:mod:`.reconcile`): GitHub cannot delete a submitted
review, so only comments new since the last run are posted, as one more review.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice
from typing import Any, TypeVar

from githubkit import GitHub
from githubkit.exception import GitHubException, RequestFailed

from ai_conductor.errors import ForgeError
from ai_conductor.forge.config import ForgeConfig, check_repository
from ai_conductor.forge.models import PullRequest, PullRequestDraft, Review, ReviewResult
from ai_conductor.forge.reconcile import Existing, body, plan

T = TypeVar("T")
MAX_ITEMS = 5_000


def _pull(data: Any) -> PullRequest:
    labels = [label.name for label in (data.labels or [])]
    draft = data.draft if isinstance(data.draft, bool) else False
    return PullRequest(
        number=data.number, url=data.html_url, title=data.title, state=data.state, draft=draft,
        head=data.head.ref, base=data.base.ref, head_sha=data.head.sha, labels=labels,
        body=data.body or "",
    )  # fmt: skip


class GitHubForge:
    """Pull requests and reviews of one GitHub repository."""

    name = "github"

    def __init__(self, config: ForgeConfig) -> None:
        self.owner, self.repo = check_repository(config)
        base = config.api_url.rstrip("/") + "/"
        self.gh = GitHub(config.token.get_secret_value(), base_url=base, timeout=30.0,
                         user_agent="ai-conductor")  # fmt: skip

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        try:
            return fn(*args, **kw)
        except RequestFailed as exc:
            try:
                reason = exc.response.json().get("message", "")
            except ValueError:
                reason = exc.response.text[:200]
            raise ForgeError(f"GitHub refused to {what} in {self.owner}/{self.repo}: HTTP "
                             f"{exc.response.status_code} {reason}".rstrip()) from None  # fmt: skip
        except GitHubException as exc:
            raise ForgeError(f"GitHub: cannot {what}: {type(exc).__name__}: {exc}") from None

    def default_branch(self) -> str:
        repo = self._call("read the repository", self.gh.rest.repos.get, self.owner, self.repo)
        return str(repo.parsed_data.default_branch)

    def find_pull_request(self, head: str, base: str | None) -> PullRequest | None:
        into = {"base": base} if base else {}
        found = self._call("list pull requests", self.gh.rest.pulls.list, self.owner, self.repo,
                           state="open", head=f"{self.owner}:{head}", **into)  # fmt: skip
        pulls = [p for p in found.parsed_data if p.head.ref == head]
        return _pull(pulls[0]) if pulls else None

    def get_pull_request(self, number: int) -> PullRequest:
        got = self._call(f"read pull request #{number}", self.gh.rest.pulls.get,
                         self.owner, self.repo, number)  # fmt: skip
        return _pull(got.parsed_data)

    def _label(self, number: int, labels: list[str]) -> list[str]:
        if not labels:
            return []
        done = self._call("add labels", self.gh.rest.issues.add_labels, self.owner, self.repo,
                          number, data={"labels": labels})  # fmt: skip
        labelled: list[Any] = done.parsed_data
        return [label.name for label in labelled]

    def open_pull_request(self, draft: PullRequestDraft) -> PullRequest:
        data = {"title": draft.title, "body": draft.body, "head": draft.head,
                "base": draft.base, "draft": draft.draft}  # fmt: skip
        made = self._call("open a pull request", self.gh.rest.pulls.create, self.owner,
                          self.repo, data=data)  # fmt: skip
        pull = _pull(made.parsed_data)
        pull.labels = self._label(pull.number, draft.labels) or pull.labels
        return pull

    def update_pull_request(self, number: int, draft: PullRequestDraft) -> PullRequest:
        data = {"title": draft.title, "body": draft.body}
        done = self._call(f"update pull request #{number}", self.gh.rest.pulls.update,
                          self.owner, self.repo, number, data=data)  # fmt: skip
        pull = _pull(done.parsed_data)
        pull.labels = self._label(number, draft.labels) or pull.labels
        return pull

    def _paged(self, what: str, fn: Callable[..., Any], **kw: Any) -> list[Any]:
        """Every item of a paged list (at most ``MAX_ITEMS``: a server that pages forever
        cannot hang the run)."""
        pages = self.gh.rest.paginate(fn, per_page=100, **kw)
        return self._call(what, lambda: list(islice(pages, MAX_ITEMS)))

    def publish_review(self, number: int, review: Review) -> ReviewResult:
        where = {"owner": self.owner, "repo": self.repo, "pull_number": number}
        reviews = self._paged("list reviews", self.gh.rest.pulls.list_reviews, **where)
        ours = [r for r in reviews if review.marker in (r.body or "")]
        comments = self._paged("list review comments", self.gh.rest.pulls.list_review_comments,
                               **where)  # fmt: skip
        existing = [Existing(c.id, c.path, c.line if isinstance(c.line, int) else None, c.body)
                    for c in comments]  # fmt: skip
        todo = plan(existing, review.comments)
        result = ReviewResult(kept=len(todo.keep))
        for old in todo.delete:
            self._call("delete a review comment", self.gh.rest.pulls.delete_review_comment,
                       self.owner, self.repo, int(old.id))  # fmt: skip
            result.deleted += 1
        for old, new in todo.update:
            self._call("edit a review comment", self.gh.rest.pulls.update_review_comment,
                       self.owner, self.repo, int(old.id), data={"body": body(new)})  # fmt: skip
            result.updated += 1
        inline = [{"path": c.path, "line": c.line, "side": "RIGHT", "body": body(c)}
                  for c in todo.create]  # fmt: skip
        if ours:
            first = ours[0]
            self._call("update the review", self.gh.rest.pulls.update_review, self.owner,
                       self.repo, number, first.id, data={"body": review.summary})  # fmt: skip
            result.summary, result.url = "updated", first.html_url
            text = (
                f"ai-conductor: {len(inline)} new comment(s) since its last review (summary above)."
            )
        else:
            text = review.summary
        if inline or not ours:
            data = {
                "commit_id": review.commit,
                "body": text,
                "event": "COMMENT",
                "comments": inline,
            }
            made = self._call("post a review", self.gh.rest.pulls.create_review, self.owner,
                              self.repo, number, data=data)  # fmt: skip
            result.url = result.url or made.parsed_data.html_url
            result.created = len(inline)
        return result

    def close(self) -> None:
        """githubkit opens a client per call (sync): nothing held."""
