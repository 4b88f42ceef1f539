"""apply_edits and parse_edits: untrusted edits applied all-or-nothing."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ai_conductor.errors import AgentError
from ai_conductor.implement.edits import (
    EDITS_JSON_SCHEMA,
    MAX_EDITS,
    EditRejected,
    apply_edits,
    parse_edits,
)
from ai_conductor.implement.models import Edit


def _tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("x = 1\ny = 2\n", encoding="utf-8")
    (root / "dup.py").write_text("a = 0\na = 0\n", encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("[core]\n", encoding="utf-8")
    (root / "blob.bin").write_bytes(b"\x00\x01x = 1\n")
    return root


def test_applies_edits_and_creates_files(project: Path) -> None:
    edits = [
        Edit(path="src/app.py", search="x = 1\n", replace="x = 10\n"),
        Edit(path="./src/app.py", search="y = 2", replace="y = 20"),
        Edit(path="pkg/new.py", search="", replace="z = 3\n"),
    ]
    assert apply_edits(project, edits) == ["src/app.py", "pkg/new.py"]
    assert (project / "src" / "app.py").read_text() == "x = 10\ny = 20\n"
    assert (project / "pkg" / "new.py").read_text() == "z = 3\n"


def test_an_inner_symlink_reports_the_real_file(project: Path) -> None:
    (project / "alias.py").symlink_to(project / "src" / "app.py")
    assert apply_edits(project, [Edit(path="alias.py", search="x", replace="w")]) == ["src/app.py"]
    assert (project / "src" / "app.py").read_text() == "w = 1\ny = 2\n"


def test_keeps_crlf_line_endings(project: Path) -> None:
    (project / "win.py").write_bytes(b"a = 1\r\nb = 2\r\n")
    apply_edits(project, [Edit(path="win.py", search="b = 2", replace="b = 3")])
    assert (project / "win.py").read_bytes() == b"a = 1\r\nb = 3\r\n"


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (Edit(path="/etc/passwd", search="root", replace="x"), "absolute"),
        (Edit(path="src/../../escape.py", search="", replace="x"), "'..'"),
        (Edit(path="link/evil.py", search="", replace="x"), "outside the workspace"),
        (Edit(path=".git/config", search="[core]", replace="[x]"), ".git"),
        (Edit(path="gitlink/config", search="[core]", replace="[x]"), ".git"),
        (Edit(path="C:\\x.py", search="", replace="x"), "relative POSIX"),
        (Edit(path="", search="", replace="x"), "relative POSIX"),
        (Edit(path="src", search="", replace="x"), "directory"),
        (Edit(path="dup.py", search="a = 0", replace="a = 1"), "more than once"),
        (Edit(path="src/app.py", search="nowhere", replace="x"), "not found"),
        (Edit(path="missing.py", search="x", replace="y"), "no such file"),
        (Edit(path="src/app.py", search="", replace="x"), "only creates new files"),
        (Edit(path="blob.bin", search="x = 1", replace="x = 2"), "binary"),
    ],
)
def test_refusals_leave_the_tree_untouched(project: Path, edit: Edit, reason: str) -> None:
    (project / "link").symlink_to(project.parent)
    (project / "gitlink").symlink_to(project / ".git")
    before = _tree(project.parent)
    good = Edit(path="src/app.py", search="x = 1", replace="x = 99")
    with pytest.raises(EditRejected, match=reason) as info:
        apply_edits(project, [good, edit])
    assert info.value.retryable
    assert isinstance(info.value, AgentError)
    assert _tree(project.parent) == before
    assert not (project.parent / "escape.py").exists()


def test_a_failed_write_is_rolled_back(project: Path) -> None:
    before = _tree(project)
    edits = [
        Edit(path="src/app.py", search="x = 1", replace="x = 99"),
        Edit(path="fresh.py", search="", replace="new\n"),
        Edit(path="dup.py/inside.py", search="", replace="x"),  # dup.py is a file
    ]
    with pytest.raises(EditRejected, match="nothing was changed"):
        apply_edits(project, edits)
    assert _tree(project) == before


def test_non_utf8_text_is_refused(project: Path) -> None:
    (project / "latin.py").write_bytes("s = 'é'\n".encode("latin-1"))
    with pytest.raises(EditRejected, match="not UTF-8"):
        apply_edits(project, [Edit(path="latin.py", search="s", replace="t")])


def test_no_edits_touch_nothing(project: Path) -> None:
    assert apply_edits(project, []) == []


def test_parse_edits_accepts_object_list_and_text() -> None:
    item = {"path": "a.py", "search": "x", "replace": "y"}
    expected = [Edit(path="a.py", search="x", replace="y")]
    assert parse_edits({"edits": [item]}) == expected
    assert parse_edits([item]) == expected
    assert parse_edits(json.dumps({"edits": [item]})) == expected
    assert parse_edits({"edits": []}) == []


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ("{not json", "not valid JSON"),
        ({"changes": []}, 'key "edits"'),
        ({"edits": "a.py"}, "must be a list"),
        (42, "must be a list"),
        ([["a.py", "x", "y"]], r"edits\[0\] must be an object"),
        ([{"path": "a.py", "search": "x"}], "exactly path, search, replace"),
        ([{"path": "a.py", "search": "x", "replace": "y", "mode": "w"}], "exactly"),
        ([{"path": "a.py", "search": 1, "replace": "y"}], r"edits\[0\] is invalid: search"),
        ([{"path": "a" * 501, "search": "", "replace": "y"}], "path"),
        ([{"path": "a.py", "search": "", "replace": "y"}] * (MAX_EDITS + 1), "too many"),
    ],
)
def test_parse_edits_rejects_malformed(payload: object, reason: str) -> None:
    with pytest.raises(EditRejected, match=reason):
        parse_edits(payload)


def test_json_schema_matches_parse_edits() -> None:
    jsonschema.Draft202012Validator.check_schema(EDITS_JSON_SCHEMA)
    good = {"edits": [{"path": "a.py", "search": "", "replace": "x"}]}
    jsonschema.validate(good, EDITS_JSON_SCHEMA)
    item = EDITS_JSON_SCHEMA["properties"]["edits"]["items"]
    assert item["properties"]["search"]["maxLength"] == 20_000
    for bad in ({"edits": [{"path": "a.py"}]}, {"edits": [], "x": 1}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, EDITS_JSON_SCHEMA)
