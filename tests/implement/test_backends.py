"""Implementer backends: the registry, the builtin (ruff) backend and the scripted fake."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.errors import AgentError, AgentUnavailable, UsageError
from ai_conductor.implement.backends import BACKENDS, Backend, load_backend
from ai_conductor.implement.backends.builtin import BuiltinBackend
from ai_conductor.implement.backends.fake import FakeBackend
from ai_conductor.implement.edits import apply_edits
from ai_conductor.implement.models import ChangeRequest, Edit

SOURCE = 'import os\n\n\ndef f(x):\n    if x == None:\n        return f"one"\n    return 2\n'


def _finding(rule: str, line: int, fixable: bool = True, path: str = "app.py") -> Finding:
    return Finding(
        tool="ruff", rule_id=rule, severity=Severity.LOW, category=Category.STYLE,
        path=path, line=line, end_line=line, message=f"{rule} here", fixable=fixable,
    )  # fmt: skip


def _request(*findings: Finding) -> ChangeRequest:
    return ChangeRequest(group="file:app.py", findings=list(findings))


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(SOURCE, encoding="utf-8")
    return tmp_path


def test_builtin_applies_safe_ruff_fixes(workspace: Path) -> None:
    request = _request(_finding("F401", 1), _finding("F541", 6), _finding("E711", 5))
    proposal = BuiltinBackend().propose(request, workspace, feedback="ignored")
    fixed = (workspace / "app.py").read_text()
    ast.parse(fixed)
    assert "import os" not in fixed
    assert 'return "one"' in fixed
    # E711's ruff fix is unsafe: the builtin backend never applies unsafe fixes
    assert "x == None" in fixed
    assert proposal.edits == []
    assert "E711, F401, F541" in proposal.summary
    assert "app.py" in proposal.summary


def test_builtin_formats_only_when_asked(workspace: Path) -> None:
    (workspace / "app.py").write_text("import os\nx = [1,2]\n", encoding="utf-8")
    BuiltinBackend().propose(_request(_finding("F401", 1)), workspace, None)
    assert (workspace / "app.py").read_text() == "x = [1,2]\n"
    (workspace / "app.py").write_text("import os\nx = [1,2]\n", encoding="utf-8")
    backend = load_backend("builtin", {"format": True})
    backend.propose(_request(_finding("F401", 1)), workspace, None)
    assert (workspace / "app.py").read_text() == "x = [1, 2]\n"


@pytest.mark.parametrize(
    "finding",
    [
        _finding("E711", 5, fixable=False),
        Finding(tool="bandit", rule_id="B101", severity=Severity.LOW, category=Category.BUG,
                path="app.py", line=5, end_line=5, message="m", fixable=True),
    ],
)  # fmt: skip
def test_builtin_without_fixable_ruff_findings_changes_nothing(
    workspace: Path, finding: Finding
) -> None:
    proposal = BuiltinBackend().propose(_request(finding), workspace, None)
    assert (workspace / "app.py").read_text() == SOURCE
    assert proposal.edits == []
    assert proposal.summary == "no automatic fix for file:app.py"


def test_builtin_reports_when_ruff_fixed_nothing(workspace: Path) -> None:
    proposal = BuiltinBackend().propose(_request(_finding("W291", 1)), workspace, None)
    assert (workspace / "app.py").read_text() == SOURCE
    assert proposal.summary.startswith("ruff had no safe fix for W291")


def test_builtin_refuses_finding_paths_outside_the_workspace(workspace: Path) -> None:
    with pytest.raises(AgentError, match="bad finding path") as info:
        BuiltinBackend().propose(_request(_finding("F401", 1, path="../x.py")), workspace, None)
    assert not info.value.retryable


def test_builtin_rejects_bad_options() -> None:
    with pytest.raises(UsageError, match="unknown option"):
        BuiltinBackend({"fmt": True})
    with pytest.raises(UsageError, match="true or false"):
        BuiltinBackend({"format": "yes"})


def test_fake_follows_its_script_and_records_feedback(workspace: Path) -> None:
    edit = {"path": "app.py", "search": "import os\n", "replace": ""}
    backend = load_backend("fake", {"script": ["noop", [edit]]})
    assert isinstance(backend, FakeBackend)
    request = _request(_finding("F401", 1))
    first = backend.propose(request, workspace, None)
    second = backend.propose(request, workspace, "attempt 1 changed nothing")
    third = backend.propose(request, workspace, "still failing")
    assert first.edits == []
    assert third.edits == []
    assert second.edits == [Edit(**edit)]
    assert (workspace / "app.py").read_text() == SOURCE  # the fake never writes
    assert backend.calls == [
        ("file:app.py", None),
        ("file:app.py", "attempt 1 changed nothing"),
        ("file:app.py", "still failing"),
    ]
    assert apply_edits(workspace, second.edits) == ["app.py"]


def test_fake_scripts_groups_separately(workspace: Path) -> None:
    edit = {"path": "app.py", "search": "import os\n", "replace": ""}
    backend = FakeBackend({"script": {"file:app.py": [[edit]]}})
    assert len(backend.propose(_request(), workspace, None).edits) == 1
    other = ChangeRequest(group="rule:F401", findings=[])
    assert backend.propose(other, workspace, None).edits == []
    assert FakeBackend().propose(other, workspace, None).edits == []


@pytest.mark.parametrize(
    "options",
    [{"script": "noop"}, {"script": [[{"path": "a.py"}]]}, {"script": [], "model": "x"}],
)
def test_fake_rejects_bad_scripts(options: dict[str, object]) -> None:
    with pytest.raises(UsageError, match="fake backend"):
        FakeBackend(options)


MINIMAL_OPTIONS: dict[str, dict[str, object]] = {
    "builtin": {},
    "fake": {},
    "openai": {"model": "m", "base_url": "http://127.0.0.1:9/v1"},
    "anthropic": {"model": "m", "base_url": "http://127.0.0.1:9"},
    "command": {"argv": ["true", "{prompt}"]},
}


def test_load_backend_names() -> None:
    assert set(BACKENDS) == set(MINIMAL_OPTIONS)
    for name in BACKENDS:
        backend = load_backend(name, MINIMAL_OPTIONS[name])
        assert isinstance(backend, Backend)
        assert backend.name == name
    assert load_backend(" Builtin ").name == "builtin"
    path = "ai_conductor.implement.backends.fake:FakeBackend"
    assert isinstance(load_backend(path), FakeBackend)


def test_load_backend_unknown_lists_known_names() -> None:
    with pytest.raises(UsageError, match="builtin, openai, anthropic, command, fake") as info:
        load_backend("gpt")
    assert not isinstance(info.value, AgentUnavailable)
    with pytest.raises(UsageError, match="cannot import"):
        load_backend("no_such_pkg.mod:Backend")
    with pytest.raises(UsageError, match="has no attribute"):
        load_backend("ai_conductor.implement.backends.fake:Nope")
    with pytest.raises(UsageError, match="not an implementer backend"):
        load_backend("pathlib:PurePosixPath")


def test_load_backend_never_calls_what_is_not_a_backend_class(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Naming any callable must not run it: ``tempfile:mkdtemp`` would create a directory."""
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(UsageError, match="not an implementer backend"):
        load_backend("tempfile:mkdtemp")
    assert list(tmp_path.iterdir()) == []
