"""GitLab (gitlab.com and self-managed) through python-gitlab.

A merge request is found among the open ones by source branch; a draft is opened with GitLab's
``Draft:`` title prefix; labels are merged with the ones already there. The review is a note
holding the summary (edited in place on a re-run) plus one diff discussion per inline comment,
positioned with the merge request's ``diff_refs``; earlier comments are reconciled
(:mod:`.reconcile`): kept, edited, deleted or added.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import gitlab
from gitlab.exceptions import GitlabError

from ai_conductor.errors import ForgeError
from ai_conductor.forge.config import ForgeConfig
from ai_conductor.forge.models import PullRequest, PullRequestDraft, Review, ReviewResult
from ai_conductor.forge.reconcile import Existing, body, plan

T = TypeVar("T")
DRAFT = "Draft: "


def _instance(api_url: str) -> str:
    """python-gitlab wants the instance URL: ``https://host/api/v4`` -> ``https://host``."""
    parts = urlsplit(api_url.rstrip("/"))
    path = parts.path.removesuffix("/api/v4")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def _mr(data: Any) -> PullRequest:
    a = data.attributes if hasattr(data, "attributes") else data
    return PullRequest(
        number=a["iid"], url=a.get("web_url", ""), title=a.get("title", ""),
        state="open" if a.get("state") == "opened" else str(a.get("state", "")),
        draft=bool(a.get("draft")), head=a.get("source_branch", ""),
        base=a.get("target_branch", ""), head_sha=a.get("sha") or "",
        labels=list(a.get("labels") or []), body=a.get("description") or "",
    )  # fmt: skip


def _existing(note: Any) -> Existing:
    where = note.position or {}
    return Existing(note.id, where.get("new_path", ""), where.get("new_line"), note.body or "")


class GitLabForge:
    """Merge requests and reviews of one GitLab project."""

    name = "gitlab"

    def __init__(self, config: ForgeConfig) -> None:
        self.where = config.repository
        self.gl = gitlab.Gitlab(_instance(config.api_url), timeout=30,
                                private_token=config.token.get_secret_value(),
                                user_agent="ai-conductor")  # fmt: skip
        self.project = self.gl.projects.get(config.repository, lazy=True)

    def _call(self, what: str, fn: Callable[..., T], *args: Any, **kw: Any) -> T:
        try:
            return fn(*args, **kw)
        except GitlabError as exc:
            reason = f"HTTP {exc.response_code} {exc.error_message}".rstrip()
            raise ForgeError(f"GitLab refused to {what} in {self.where}: {reason}") from None
        except Exception as exc:  # requests' transport errors
            raise ForgeError(f"GitLab: cannot {what}: {type(exc).__name__}: {exc}") from None

    def default_branch(self) -> str:
        project = self._call("read the project", self.gl.projects.get, self.where)
        return str(project.default_branch)

    def find_pull_request(self, head: str, base: str | None) -> PullRequest | None:
        into = {"target_branch": base} if base else {}
        found = self._call("list merge requests", self.project.mergerequests.list,
                           state="opened", source_branch=head, get_all=True, **into)  # fmt: skip
        return _mr(found[0]) if found else None

    def get_pull_request(self, number: int) -> PullRequest:
        return _mr(self._call(f"read merge request !{number}", self.project.mergerequests.get,
                              number))  # fmt: skip

    def open_pull_request(self, draft: PullRequestDraft) -> PullRequest:
        data = {"source_branch": draft.head, "target_branch": draft.base,
                "title": DRAFT + draft.title if draft.draft else draft.title,
                "description": draft.body, "labels": ",".join(draft.labels)}  # fmt: skip
        return _mr(self._call("open a merge request", self.project.mergerequests.create, data))

    def update_pull_request(self, number: int, draft: PullRequestDraft) -> PullRequest:
        current = self.get_pull_request(number)
        title = DRAFT + draft.title if current.title.startswith(DRAFT) else draft.title
        labels = ",".join(dict.fromkeys([*current.labels, *draft.labels]))
        data = {"title": title, "description": draft.body, "labels": labels}
        self._call(f"update merge request !{number}", self.project.mergerequests.update,
                   number, data)  # fmt: skip
        return self.get_pull_request(number)

    def publish_review(self, number: int, review: Review) -> ReviewResult:
        mr = self._call(f"read merge request !{number}", self.project.mergerequests.get, number)
        notes = self._call("list notes", mr.notes.list, get_all=True)
        summary = next((n for n in notes if review.marker in (n.body or "")), None)
        existing = [_existing(n) for n in notes if getattr(n, "position", None)]
        todo = plan(existing, review.comments)
        result = ReviewResult(kept=len(todo.keep), url=_mr(mr).url)
        for old in todo.delete:
            self._call("delete a comment", mr.notes.delete, old.id)
            result.deleted += 1
        for old, new in todo.update:
            self._call("edit a comment", mr.notes.update, old.id, {"body": body(new)})
            result.updated += 1
        refs = mr.diff_refs or {}
        for c in todo.create:
            position = {"position_type": "text", "base_sha": refs.get("base_sha"),
                        "start_sha": refs.get("start_sha"), "head_sha": refs.get("head_sha"),
                        "new_path": c.path, "old_path": c.path, "new_line": c.line}  # fmt: skip
            self._call("comment on a line", mr.discussions.create,
                       {"body": body(c), "position": position})  # fmt: skip
            result.created += 1
        if summary is None:
            self._call("post the review summary", mr.notes.create, {"body": review.summary})
        else:
            self._call("update the review summary", mr.notes.update, summary.id,
                       {"body": review.summary})  # fmt: skip
            result.summary = "updated"
        return result

    def close(self) -> None:
        self.gl.session.close()
