"""A Gitea/Forgejo REST stand-in (``/api/v1``) for pull requests, labels and reviews.

Response bodies are built from pyforgejo's models (``pyforgejo.types``: PullRequest, Label,
PullReview, PullReviewComment, Repository), which are generated from Forgejo's published
OpenAPI description, and validated by them before they are sent. pyforgejo takes request
bodies as keyword arguments, not models: a request body may only hold the fields the matching
client method declares (the OpenAPI operation's), review comments validate as
``CreatePullReviewComment`` and labels as ``CreateLabelOption``. Branch heads come from the
real bare repository.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from pyforgejo import types as t
from pyforgejo.repository.client import RepositoryClient

from tests.forge._github import _sha
from tests.forge._models import example
from tests.forge._standin import Call, StandIn

OWNER, NAME = "acme", "shop"
REPO = rf"/repos/{OWNER}/{NAME}"
WEB = f"https://gitea.example/{OWNER}/{NAME}"


def _body(call: Call, method: Any) -> SimpleNamespace:
    """The request body, checked against the fields ``method`` of pyforgejo's client sends."""
    allowed = set(inspect.signature(method).parameters) - {"owner", "repo", "index", "id",
                                                            "request_options"}  # fmt: skip
    unknown = set(call.body) - allowed
    assert not unknown, f"{call.method} {call.path}: fields {unknown} not in the API"
    return SimpleNamespace(**{k: call.body.get(k) for k in allowed})


@dataclass
class GPull:
    number: int
    title: str
    body: str
    head: str
    base: str
    labels: list[int] = field(default_factory=list)
    state: str = "open"


class GiteaStandIn(StandIn):
    def __init__(self, bare: Path, token: str) -> None:
        super().__init__(lambda h: h.get("authorization") == f"token {token}", "/api/v1")
        self.bare = bare
        self.pulls: dict[int, GPull] = {}
        self.labels: dict[int, str] = {}
        self.reviews: dict[int, dict[str, Any]] = {}
        self._ids = 500
        for method, path, fn in [
            ("GET", REPO, self.repo), ("GET", f"{REPO}/pulls", self.list_pulls),
            ("POST", f"{REPO}/pulls", self.create_pull),
            ("GET", rf"{REPO}/pulls/(?P<n>\d+)", self.get_pull),
            ("PATCH", rf"{REPO}/pulls/(?P<n>\d+)", self.edit_pull),
            ("GET", f"{REPO}/labels", self.list_labels), ("POST", f"{REPO}/labels", self.new_label),
            ("GET", rf"{REPO}/pulls/(?P<n>\d+)/reviews", self.list_reviews),
            ("POST", rf"{REPO}/pulls/(?P<n>\d+)/reviews", self.create_review),
            ("DELETE", rf"{REPO}/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)", self.delete_review),
            ("GET", rf"{REPO}/pulls/(?P<n>\d+)/reviews/(?P<id>\d+)/comments", self.comments),
        ]:  # fmt: skip
            self.route(method, path)(fn)

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def _label(self, i: int) -> dict[str, Any]:
        return example(t.Label, id=i, name=self.labels[i], color="0e8a16")

    def _pull(self, p: GPull) -> dict[str, Any]:
        def side(ref: str) -> dict[str, Any]:
            return example(t.PrBranchInfo, ref=ref, label=ref, sha=_sha(self.bare, ref) or "")

        return example(t.PullRequest, number=p.number, id=p.number, title=p.title, body=p.body,
                       state=p.state, head=side(p.head), base=side(p.base),
                       labels=[self._label(i) for i in p.labels],
                       html_url=f"{WEB}/pulls/{p.number}")  # fmt: skip

    def repo(self, call: Call) -> tuple[int, Any]:
        return 200, example(t.Repository, name=NAME, default_branch="main")

    def list_pulls(self, call: Call) -> tuple[int, Any]:
        state = call.query.get("state", "open")
        found = [p for p in self.pulls.values() if state == "all" or p.state == state]
        limit, page = int(call.query.get("limit", 30)), int(call.query.get("page", 1))
        return 200, [self._pull(p) for p in found[(page - 1) * limit : page * limit]]

    def create_pull(self, call: Call) -> tuple[int, Any]:
        opt = _body(call, RepositoryClient.repo_create_pull_request)
        if _sha(self.bare, str(opt.head)) is None:
            return 404, {"message": "head branch not found"}
        number = len(self.pulls) + 1
        self.pulls[number] = GPull(number, str(opt.title), opt.body or "", str(opt.head),
                                   str(opt.base), list(opt.labels or []))  # fmt: skip
        return 201, self._pull(self.pulls[number])

    def get_pull(self, call: Call) -> tuple[int, Any]:
        return 200, self._pull(self.pulls[int(call.params["n"])])

    def edit_pull(self, call: Call) -> tuple[int, Any]:
        opt = _body(call, RepositoryClient.repo_edit_pull_request)
        pull = self.pulls[int(call.params["n"])]
        pull.title, pull.body = opt.title or pull.title, opt.body or pull.body
        pull.labels = list(opt.labels) if opt.labels is not None else pull.labels
        return 201, self._pull(pull)

    def list_labels(self, call: Call) -> tuple[int, Any]:
        return 200, [self._label(i) for i in self.labels]

    def new_label(self, call: Call) -> tuple[int, Any]:
        opt = t.CreateLabelOption.model_validate(call.body)
        i = self._id()
        self.labels[i] = opt.name
        return 201, self._label(i)

    def _review(self, r: dict[str, Any]) -> dict[str, Any]:
        return example(t.PullReview, id=r["id"], body=r["body"], commit_id=r["commit_id"],
                       state="COMMENT", html_url=f"{WEB}/pulls/{r['pull']}#r{r['id']}")  # fmt: skip

    def list_reviews(self, call: Call) -> tuple[int, Any]:
        n = int(call.params["n"])
        return 200, [self._review(r) for r in self.reviews.values() if r["pull"] == n]

    def create_review(self, call: Call) -> tuple[int, Any]:
        opt = _body(call, RepositoryClient.repo_create_pull_review)
        items = [t.CreatePullReviewComment.model_validate(c) for c in opt.comments or []]
        review = {"id": self._id(), "pull": int(call.params["n"]), "body": opt.body or "",
                  "commit_id": opt.commit_id, "comments": [
                      {"id": self._id(), "path": c.path, "position": c.new_position,
                       "body": c.body} for c in items]}  # fmt: skip
        self.reviews[review["id"]] = review
        return 200, self._review(review)

    def delete_review(self, call: Call) -> tuple[int, Any]:
        del self.reviews[int(call.params["id"])]
        return 204, None

    def comments(self, call: Call) -> tuple[int, Any]:
        review = self.reviews[int(call.params["id"])]
        sha = review["commit_id"]
        return 200, [example(t.PullReviewComment, id=c["id"], path=c["path"],
                             position=c["position"], body=c["body"], commit_id=sha)
                     for c in review["comments"]]  # fmt: skip
