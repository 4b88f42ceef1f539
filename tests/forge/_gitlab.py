"""A GitLab REST v4 stand-in for merge requests, notes and diff discussions.

No machine-readable schema of GitLab's REST API ships in a package installable here (GitLab's
own OpenAPI file lives in its repository; python-gitlab and the other clients carry none), so
the response models below are written here from GitLab's REST documentation (merge requests,
notes, discussions): required fields and types as documented, unknown fields refused. Every
response is validated by them; every request body must hold the required attributes and only
the attributes python-gitlab itself declares for that call (its published ``RequiredOptional``
of the manager). Branch heads come from the real bare repository.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote

from gitlab.v4.objects import discussions, merge_requests, notes
from pydantic import BaseModel, ConfigDict

from tests.forge._github import _sha
from tests.forge._standin import Call, StandIn

PROJECT = "acme/shop"
BASE = r"/projects/(?P<p>[^/]+)"
MR = rf"{BASE}/merge_requests/(?P<n>\d+)"
WEB = "https://gitlab.example/acme/shop"


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserBasic(_Doc):
    id: int
    username: str
    name: str
    state: str
    avatar_url: str | None
    web_url: str


class DiffRefs(_Doc):
    base_sha: str
    head_sha: str
    start_sha: str


class MergeRequest(_Doc):
    id: int
    iid: int
    project_id: int
    title: str
    description: str | None
    state: Literal["opened", "closed", "locked", "merged"]
    created_at: datetime
    updated_at: datetime
    target_branch: str
    source_branch: str
    author: UserBasic
    labels: list[str]
    draft: bool
    work_in_progress: bool
    sha: str | None
    web_url: str
    diff_refs: DiffRefs | None


class Position(_Doc):
    base_sha: str
    start_sha: str
    head_sha: str
    position_type: Literal["text", "image", "file"]
    old_path: str | None = None
    new_path: str | None = None
    old_line: int | None = None
    new_line: int | None = None


class Note(_Doc):
    id: int
    type: Literal["DiffNote", "DiscussionNote"] | None
    body: str
    author: UserBasic
    created_at: datetime
    updated_at: datetime
    system: bool
    noteable_id: int
    noteable_type: Literal["MergeRequest"]
    noteable_iid: int
    resolvable: bool
    position: Position | None = None


class Discussion(_Doc):
    id: str
    individual_note: bool
    notes: list[Note]


class Project(_Doc):
    id: int
    path_with_namespace: str
    default_branch: str
    web_url: str


def _attrs(call: Call, declared: Any) -> dict[str, Any]:
    """The body, holding ``declared.required`` and nothing python-gitlab does not declare."""
    body = dict(call.body or {})
    missing = [a for a in declared.required if a not in body]
    unknown = set(body) - set(declared.required) - set(declared.optional)
    assert not missing, f"{call.path}: missing {missing}"
    assert not unknown, f"{call.path}: attributes {unknown} python-gitlab does not declare"
    return body


NOW = "2026-12-01T00:00:00Z"
USER = {"id": 7, "username": "conductor", "name": "conductor", "state": "active",
        "avatar_url": None, "web_url": "https://gitlab.example/conductor"}  # fmt: skip


class GitLabStandIn(StandIn):
    def __init__(self, bare: Path, token: str) -> None:
        super().__init__(lambda h: h.get("private-token") == token, "/api/v4")
        self.bare = bare
        self.mrs: dict[int, dict[str, Any]] = {}
        self.notes: dict[int, dict[str, Any]] = {}
        self._ids = 900
        for method, path, fn in [
            ("GET", BASE, self.project), ("GET", f"{BASE}/merge_requests", self.list_mrs),
            ("POST", f"{BASE}/merge_requests", self.create_mr), ("GET", MR, self.get_mr),
            ("PUT", MR, self.update_mr), ("GET", f"{MR}/notes", self.list_notes),
            ("POST", f"{MR}/notes", self.create_note),
            ("PUT", rf"{MR}/notes/(?P<id>\d+)", self.update_note),
            ("DELETE", rf"{MR}/notes/(?P<id>\d+)", self.delete_note),
            ("POST", f"{MR}/discussions", self.create_discussion),
        ]:  # fmt: skip
            self.route(method, path)(fn)

    def _id(self) -> int:
        self._ids += 1
        return self._ids

    def _check(self, call: Call) -> None:
        assert unquote(call.params["p"]) == PROJECT, call.path

    def _mr(self, m: dict[str, Any]) -> dict[str, Any]:
        head = _sha(self.bare, m["source_branch"])
        base = _sha(self.bare, m["target_branch"]) or "0" * 40
        data = {"id": m["iid"] + 1000, "iid": m["iid"], "project_id": 1, "title": m["title"],
                "description": m["description"], "state": m["state"], "created_at": NOW,
                "updated_at": NOW, "target_branch": m["target_branch"],
                "source_branch": m["source_branch"], "author": USER, "labels": m["labels"],
                "draft": m["title"].startswith("Draft:"),
                "work_in_progress": m["title"].startswith("Draft:"), "sha": head,
                "web_url": f"{WEB}/-/merge_requests/{m['iid']}",
                "diff_refs": {"base_sha": base, "head_sha": head or base,
                              "start_sha": base}}  # fmt: skip
        MergeRequest.model_validate(data)
        return data

    def project(self, call: Call) -> tuple[int, Any]:
        self._check(call)
        data = {"id": 1, "path_with_namespace": PROJECT, "default_branch": "main",
                "web_url": WEB}  # fmt: skip
        return 200, Project.model_validate(data).model_dump(mode="json")

    def list_mrs(self, call: Call) -> tuple[int, Any]:
        self._check(call)
        q = call.query
        found = [m for m in self.mrs.values() if m["state"] == q.get("state", m["state"])
                 and m["source_branch"] == q.get("source_branch", m["source_branch"])
                 and m["target_branch"] == q.get("target_branch", m["target_branch"])]  # fmt: skip
        return 200, [self._mr(m) for m in found]

    def create_mr(self, call: Call) -> tuple[int, Any]:
        self._check(call)
        body = _attrs(call, merge_requests.ProjectMergeRequestManager._create_attrs)
        if _sha(self.bare, body["source_branch"]) is None:
            return 400, {"message": ["source_branch does not exist"]}
        iid = len(self.mrs) + 1
        self.mrs[iid] = {"iid": iid, "title": body["title"], "state": "opened",
                         "description": body.get("description"),
                         "source_branch": body["source_branch"],
                         "target_branch": body["target_branch"],
                         "labels": [x for x in body.get("labels", "").split(",") if x]}  # fmt: skip
        return 201, self._mr(self.mrs[iid])

    def get_mr(self, call: Call) -> tuple[int, Any]:
        return 200, self._mr(self.mrs[int(call.params["n"])])

    def update_mr(self, call: Call) -> tuple[int, Any]:
        body = _attrs(call, merge_requests.ProjectMergeRequestManager._update_attrs)
        m = self.mrs[int(call.params["n"])]
        m["title"] = body.get("title", m["title"])
        m["description"] = body.get("description", m["description"])
        if "labels" in body:
            m["labels"] = [x for x in body["labels"].split(",") if x]
        return 200, self._mr(m)

    def _note(self, n: dict[str, Any]) -> dict[str, Any]:
        data = {"id": n["id"], "type": "DiffNote" if n.get("position") else None,
                "body": n["body"], "author": USER, "created_at": NOW, "updated_at": NOW,
                "system": False, "noteable_id": n["mr"] + 1000, "noteable_type": "MergeRequest",
                "noteable_iid": n["mr"], "resolvable": bool(n.get("position")),
                "position": n.get("position")}  # fmt: skip
        Note.model_validate(data)
        return data

    def list_notes(self, call: Call) -> tuple[int, Any]:
        n = int(call.params["n"])
        return 200, [self._note(x) for x in self.notes.values() if x["mr"] == n]

    def create_note(self, call: Call) -> tuple[int, Any]:
        body = _attrs(call, notes.ProjectMergeRequestNoteManager._create_attrs)
        note = {"id": self._id(), "mr": int(call.params["n"]), "body": body["body"]}
        self.notes[note["id"]] = note
        return 201, self._note(note)

    def update_note(self, call: Call) -> tuple[int, Any]:
        body = _attrs(call, notes.ProjectMergeRequestNoteManager._update_attrs)
        note = self.notes[int(call.params["id"])]
        note["body"] = body["body"]
        return 200, self._note(note)

    def delete_note(self, call: Call) -> tuple[int, Any]:
        del self.notes[int(call.params["id"])]
        return 204, None

    def create_discussion(self, call: Call) -> tuple[int, Any]:
        body = _attrs(call, discussions.ProjectMergeRequestDiscussionManager._create_attrs)
        position = Position.model_validate(body["position"]).model_dump()
        mr = self._mr(self.mrs[int(call.params["n"])])
        assert position["head_sha"] == mr["diff_refs"]["head_sha"], "stale diff position"
        note = {"id": self._id(), "mr": int(call.params["n"]), "body": body["body"],
                "position": position}  # fmt: skip
        self.notes[note["id"]] = note
        data = {"id": uuid.uuid4().hex, "individual_note": False, "notes": [self._note(note)]}
        return 201, Discussion.model_validate(data).model_dump(mode="json")
