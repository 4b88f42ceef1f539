"""A GitHub REST stand-in for the endpoints the conductor uses (pull requests, labels, reviews).

Every response body is built from githubkit's published schema models
(``githubkit_schemas.latest.models``: PullRequest, PullRequestSimple, FullRepository, Label,
PullRequestReview, PullRequestReviewComment) and validated by them before it is sent; every
request body is validated by the matching request model (``ReposOwnerRepoPullsPostBody``...).
Branch heads come from a real bare repository (the one the conductor pushes to), and opening a
pull request for a branch the repository does not have is refused (422) as GitHub does.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from githubkit_schemas.latest import models as m

from tests.forge._models import example
from tests.forge._standin import Call, Handler, StandIn

OWNER, NAME = "acme", "shop"
WEB = f"https://github.example/{OWNER}/{NAME}"
REPO = rf"/repos/{OWNER}/{NAME}"


@dataclass
class Pull:
    number: int
    title: str
    body: str
    head: str
    base: str
    draft: bool
    state: str = "open"
    labels: list[str] = field(default_factory=list)


def _page(call: Call, items: list[Any]) -> list[Any]:
    """One page of ``items``, as GitHub pages lists (``page`` from 1, ``per_page`` default 30,
    a ``Link: <...>; rel="next"`` header while there are more)."""
    size = int(call.query.get("per_page", 30))
    page = int(call.query.get("page", 1))
    if page * size < len(items):
        query = "&".join(f"{k}={v}" for k, v in {**call.query, "page": page + 1}.items())
        call.reply_headers["Link"] = (
            f'<http://{call.headers["host"]}{call.path}?{query}>; rel="next"'
        )
    return items[(page - 1) * size : page * size]


def _sha(bare: Path, branch: str) -> str | None:
    out = subprocess.run(["git", "rev-parse", "-q", "--verify", f"refs/heads/{branch}"],
                         cwd=bare, capture_output=True, text=True, check=False)  # fmt: skip
    return out.stdout.strip() or None


def _cacheable(fn: Handler) -> Handler:
    """GitHub marks its GET answers cacheable for a minute (``Cache-Control: private,
    max-age=60``, an ``ETag``): a client that caches them sees a pull request list that is up to
    a minute stale, so the stand-in sends the same headers."""

    def handler(call: Call) -> tuple[int, Any]:
        status, data = fn(call)
        call.reply_headers.update({"Cache-Control": "private, max-age=60, s-maxage=60",
                                   "ETag": f'W/"{hash(repr(data)) & 0xFFFFFFFF:08x}"',
                                   "Vary": "Accept, Authorization, Cookie"})  # fmt: skip
        return status, data

    return handler


class GitHubStandIn(StandIn):
    def __init__(self, bare: Path, token: str, prefix: str = "/api/v3") -> None:
        super().__init__(lambda h: h.get("authorization") in (f"token {token}", f"Bearer {token}"),
                         prefix)  # fmt: skip
        self.bare = bare
        self.pulls: dict[int, Pull] = {}
        self.reviews: dict[int, dict[str, Any]] = {}
        self.comments: dict[int, dict[str, Any]] = {}
        self._ids = 100
        for method, path, fn in [
            ("GET", REPO, self.repo), ("GET", f"{REPO}/pulls", self.list_pulls),
            ("POST", f"{REPO}/pulls", self.create_pull),
            ("GET", rf"{REPO}/pulls/(?P<n>\d+)", self.get_pull),
            ("PATCH", rf"{REPO}/pulls/(?P<n>\d+)", self.update_pull),
            ("POST", rf"{REPO}/issues/(?P<n>\d+)/labels", self.add_labels),
            ("GET", rf"{REPO}/pulls/(?P<n>\d+)/reviews", self.list_reviews),
            ("POST", rf"{REPO}/pulls/(?P<n>\d+)/reviews", self.create_review),
            ("PUT", rf"{REPO}/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)", self.update_review),
            ("GET", rf"{REPO}/pulls/(?P<n>\d+)/comments", self.list_comments),
            ("PATCH", rf"{REPO}/pulls/comments/(?P<id>\d+)", self.update_comment),
            ("DELETE", rf"{REPO}/pulls/comments/(?P<id>\d+)", self.delete_comment),
        ]:  # fmt: skip
            self.route(method, path)(_cacheable(fn) if method == "GET" else fn)

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    # --- response bodies, validated by githubkit's models --------------------------------
    def _pull(self, p: Pull, model: type[Any] = m.PullRequest) -> dict[str, Any]:
        sha = _sha(self.bare, p.head) or "0" * 40
        base = _sha(self.bare, p.base) or "0" * 40
        repo = example(m.Repository, name=NAME, full_name=f"{OWNER}/{NAME}")

        def side(ref: str, s: str) -> dict[str, Any]:
            return {"label": f"{OWNER}:{ref}", "ref": ref, "sha": s, "repo": repo,
                    "user": example(m.SimpleUser, login=OWNER)}  # fmt: skip

        labels = [example(m.Label, name=n, id=i + 1) for i, n in enumerate(p.labels)]
        return example(model, number=p.number, title=p.title, body=p.body, state=p.state,
                       draft=p.draft, head=side(p.head, sha), base=side(p.base, base),
                       labels=labels, html_url=f"{WEB}/pull/{p.number}")  # fmt: skip

    def repo(self, call: Call) -> tuple[int, Any]:
        return 200, example(m.FullRepository, name=NAME, full_name=f"{OWNER}/{NAME}",
                            default_branch="main")  # fmt: skip

    def list_pulls(self, call: Call) -> tuple[int, Any]:
        head = call.query.get("head", "")
        found = [p for p in self.pulls.values()
                 if p.state == call.query.get("state", "open")
                 and (not head or f"{OWNER}:{p.head}" == head)
                 and p.base == call.query.get("base", p.base)]  # fmt: skip
        return 200, [self._pull(p, m.PullRequestSimple) for p in _page(call, found)]

    def create_pull(self, call: Call) -> tuple[int, Any]:
        data = m.ReposOwnerRepoPullsPostBody.model_validate(call.body)
        if _sha(self.bare, str(data.head)) is None:
            return 422, {"message": "Validation Failed", "errors": [{"field": "head"}]}
        number = len(self.pulls) + 1
        draft = data.draft if isinstance(data.draft, bool) else False
        body = data.body if isinstance(data.body, str) else ""
        self.pulls[number] = Pull(number, str(data.title), body, str(data.head), data.base, draft)
        return 201, self._pull(self.pulls[number])

    def get_pull(self, call: Call) -> tuple[int, Any]:
        return 200, self._pull(self.pulls[int(call.params["n"])])

    def update_pull(self, call: Call) -> tuple[int, Any]:
        data = m.ReposOwnerRepoPullsPullNumberPatchBody.model_validate(call.body)
        pull = self.pulls[int(call.params["n"])]
        pull.title = data.title if isinstance(data.title, str) else pull.title
        pull.body = data.body if isinstance(data.body, str) else pull.body
        return 200, self._pull(pull)

    def add_labels(self, call: Call) -> tuple[int, Any]:
        m.ReposOwnerRepoIssuesIssueNumberLabelsPostBodyOneof0.model_validate(call.body)
        pull = self.pulls[int(call.params["n"])]
        pull.labels += [n for n in call.body["labels"] if n not in pull.labels]
        return 200, [example(m.Label, name=n, id=i + 1) for i, n in enumerate(pull.labels)]

    # --- reviews ------------------------------------------------------------------------
    def _review(self, r: dict[str, Any]) -> dict[str, Any]:
        return example(m.PullRequestReview, id=r["id"], body=r["body"], state="COMMENTED",
                       commit_id=r["commit_id"], html_url=f"{WEB}/r/{r['id']}")  # fmt: skip

    def _comment(self, c: dict[str, Any]) -> dict[str, Any]:
        return example(m.PullRequestReviewComment, id=c["id"], path=c["path"], line=c["line"],
                       side="RIGHT", body=c["body"], commit_id=c["commit_id"],
                       pull_request_review_id=c["review"])  # fmt: skip

    def list_reviews(self, call: Call) -> tuple[int, Any]:
        n = int(call.params["n"])
        found = [r for r in self.reviews.values() if r["pull"] == n]
        return 200, [self._review(r) for r in _page(call, found)]

    def create_review(self, call: Call) -> tuple[int, Any]:
        data = m.ReposOwnerRepoPullsPullNumberReviewsPostBody.model_validate(call.body)
        review = {"id": self._id(), "pull": int(call.params["n"]), "body": data.body,
                  "commit_id": data.commit_id}  # fmt: skip
        self.reviews[review["id"]] = review
        for item in call.body.get("comments", []):
            cid = self._id()
            self.comments[cid] = {"id": cid, "pull": review["pull"], "review": review["id"],
                                  "path": item["path"], "line": item["line"],
                                  "body": item["body"], "commit_id": data.commit_id}  # fmt: skip
        return 200, self._review(review)

    def update_review(self, call: Call) -> tuple[int, Any]:
        m.ReposOwnerRepoPullsPullNumberReviewsReviewIdPutBody.model_validate(call.body)
        review = self.reviews[int(call.params["id"])]
        review["body"] = call.body["body"]
        return 200, self._review(review)

    def list_comments(self, call: Call) -> tuple[int, Any]:
        n = int(call.params["n"])
        found = [c for c in self.comments.values() if c["pull"] == n]
        return 200, [self._comment(c) for c in _page(call, found)]

    def update_comment(self, call: Call) -> tuple[int, Any]:
        m.ReposOwnerRepoPullsCommentsCommentIdPatchBody.model_validate(call.body)
        comment = self.comments[int(call.params["id"])]
        comment["body"] = call.body["body"]
        return 200, self._comment(comment)

    def delete_comment(self, call: Call) -> tuple[int, Any]:
        del self.comments[int(call.params["id"])]
        return 204, None
