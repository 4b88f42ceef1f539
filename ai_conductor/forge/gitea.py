"""Gitea and Forgejo through pyforgejo, the client generated from Forgejo's OpenAPI description
(Gitea's pull-request and review API is the same).

Pull requests are found among the open ones by head branch; a draft is opened with Gitea's
work-in-progress prefix ``WIP:``; labels are set by id (created when the repository lacks
them), keeping the ones already there. Gitea can delete a review: a re-run replaces the
conductor's earlier review (found by its marker) with the new one, unless nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pyforgejo import PyforgejoApi
from pyforgejo.core.api_error import ApiError
from pyforgejo.types.create_pull_review_comment import CreatePullReviewComment

from ai_conductor.errors import ForgeError
from ai_conductor.forge.config import ForgeConfig, check_repository
from ai_conductor.forge.models import RUN_LINE, PullRequest, PullRequestDraft, Review, ReviewResult
from ai_conductor.forge.reconcile import body

T = TypeVar("T")
WIP = "WIP: "
LABEL_COLOR = "#0e8a16"
PAGE = 50


def _pull(data: Any) -> PullRequest:
    head, base = data.head, data.base
    return PullRequest(
        number=data.number or 0, url=data.html_url or "", title=data.title or "",
        state=data.state or "open", draft=bool(data.draft),
        head=head.ref if head else "", base=base.ref if base else "",
        head_sha=head.sha if head and head.sha else "",
        labels=[label.name for label in data.labels or [] if label.name], body=data.body or "",
    )  # fmt: skip


def _stable(summary: str) -> str:
    """A summary without the lines that change on every run (the analysis run id)."""
    return "\n".join(line for line in summary.strip().splitlines() if RUN_LINE not in line)


class GiteaForge:
    """Pull requests and reviews of one Gitea or Forgejo repository."""

    name = "gitea"

    def __init__(self, config: ForgeConfig) -> None:
        self.owner, self.repo = check_repository(config)
        self.api = PyforgejoApi(base_url=config.api_url.rstrip("/"), timeout=30.0,
                                api_key=config.token.get_secret_value())  # fmt: skip

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        try:
            return fn(self.owner, self.repo, *args, **kw)
        except ApiError as exc:
            reason = exc.body.get("message", "") if isinstance(exc.body, dict) else ""
            raise ForgeError(f"Gitea refused to {what} in {self.owner}/{self.repo}: HTTP "
                             f"{exc.status_code} {reason}".rstrip()) from None  # fmt: skip
        except Exception as exc:  # httpx transport errors, unreadable replies
            raise ForgeError(f"Gitea: cannot {what}: {type(exc).__name__}: {exc}") from None

    def default_branch(self) -> str:
        return str(self._call("read the repository", self.api.repository.repo_get).default_branch)

    def _open_pulls(self) -> list[Any]:
        found: list[Any] = []
        for page in range(1, 41):
            batch = self._call("list pull requests", self.api.repository.repo_list_pull_requests,
                               state="open", page=page, limit=PAGE)  # fmt: skip
            found += batch
            if len(batch) < PAGE:
                break
        return found

    def find_pull_request(self, head: str, base: str | None) -> PullRequest | None:
        for data in self._open_pulls():
            pr = _pull(data)
            if pr.head == head and (base is None or pr.base == base):
                return pr
        return None

    def get_pull_request(self, number: int) -> PullRequest:
        repo = self.api.repository
        return _pull(self._call(f"read pull request #{number}", repo.repo_get_pull_request, number))

    def _label_ids(self, names: list[str]) -> dict[str, int]:
        known = {lb.name: lb.id for lb in self._call("list labels", self.api.issue.list_labels,
                                                     limit=PAGE) if lb.name}  # fmt: skip
        for name in names:
            if name not in known:
                made = self._call("create a label", self.api.issue.create_label, name=name,
                                  color=LABEL_COLOR)  # fmt: skip
                known[name] = made.id
        return {n: int(i) for n, i in known.items() if i is not None}

    def open_pull_request(self, draft: PullRequestDraft) -> PullRequest:
        ids = self._label_ids(draft.labels)
        title = WIP + draft.title if draft.draft else draft.title
        made = self._call("open a pull request", self.api.repository.repo_create_pull_request,
                          head=draft.head, base=draft.base, title=title, body=draft.body,
                          labels=[ids[n] for n in draft.labels])  # fmt: skip
        return _pull(made)

    def update_pull_request(self, number: int, draft: PullRequestDraft) -> PullRequest:
        current = self.get_pull_request(number)
        ids = self._label_ids([*current.labels, *draft.labels])
        wanted = list(dict.fromkeys([*current.labels, *draft.labels]))
        title = WIP + draft.title if current.title.startswith(WIP) else draft.title
        done = self._call(f"update pull request #{number}",
                          self.api.repository.repo_edit_pull_request, number, title=title,
                          body=draft.body, labels=[ids[n] for n in wanted])  # fmt: skip
        return _pull(done)

    def publish_review(self, number: int, review: Review) -> ReviewResult:
        repo = self.api.repository
        reviews = self._call("list reviews", repo.repo_list_pull_reviews, number, limit=PAGE)
        ours = [r for r in reviews if review.marker in (r.body or "")]
        old_comments: list[Any] = []
        for r in ours:
            old_comments += self._call("read review comments", repo.repo_get_pull_review_comments,
                                       number, r.id)  # fmt: skip
        wanted = {(c.path, c.line, body(c).strip()) for c in review.comments}
        have = {(c.path, c.position, (c.body or "").strip()) for c in old_comments}
        same = _stable(ours[0].body or "") == _stable(review.summary) if len(ours) == 1 else False
        if same and wanted == have:
            return ReviewResult(url=ours[0].html_url or "", summary="unchanged",
                                kept=len(old_comments))  # fmt: skip
        for r in ours:
            self._call("delete the earlier review", repo.repo_delete_pull_review, number, r.id)
        comments = [CreatePullReviewComment(path=c.path, new_position=c.line, body=body(c))
                    for c in review.comments]  # fmt: skip
        made = self._call("post a review", repo.repo_create_pull_review, number,
                          body=review.summary, event="COMMENT", commit_id=review.commit,
                          comments=comments)  # fmt: skip
        return ReviewResult(url=made.html_url or "", summary="replaced" if ours else "created",
                            created=len(comments), deleted=len(old_comments))  # fmt: skip

    def close(self) -> None:
        """pyforgejo's client closes its connections with the process."""
