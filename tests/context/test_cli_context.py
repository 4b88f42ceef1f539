"""``run_search``, the body of ``conductor context search``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_conductor.cli._context import run_search
from ai_conductor.context import ContextRecord, open_context_store
from ai_conductor.settings import reload_settings


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("CONDUCTOR_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("CONDUCTOR_CONTEXT_STORE", raising=False)
    settings = reload_settings()
    store = open_context_store(settings)
    try:
        store.batch_store([
            ContextRecord(workflow_id="a", context_type="finding", content="SQL injection here"),
            ContextRecord(workflow_id="b", context_type="change_kept", content="SQL fix kept"),
        ])  # fmt: skip
    finally:
        store.close()
    yield tmp_path / "home"
    monkeypatch.undo()
    reload_settings()


def test_json_on_stdout_when_piped(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_search("sql injection", workflow=None, k=5, as_json=False) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["record"]["content"] for h in hits] == ["SQL injection here", "SQL fix kept"]
    assert hits[0]["score"] >= hits[1]["score"]
    assert run_search("sql", workflow="b", k=5, as_json=True) == 0
    (only,) = json.loads(capsys.readouterr().out)
    assert only["record"]["workflow_id"] == "b"


def test_bad_input_and_broken_store_exit_codes(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_search("  ", workflow=None, k=5, as_json=True) == 2
    assert run_search("sql", workflow=None, k=0, as_json=True) == 2
    assert "k must be at least 1" in capsys.readouterr().err
    monkeypatch.setenv("CONDUCTOR_CONTEXT_STORE", "weaviate")
    monkeypatch.delenv("WEAVIATE_URL", raising=False)
    monkeypatch.delenv("CONDUCTOR_WEAVIATE_URL", raising=False)
    reload_settings()
    assert run_search("sql", workflow=None, k=5, as_json=True) == 2
    assert "WEAVIATE_URL" in capsys.readouterr().err


def test_table_on_a_terminal(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from rich.console import Console

    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    monkeypatch.setattr("ai_conductor.cli._context.err", Console(stderr=True, width=200))
    assert run_search("sql injection", workflow=None, k=5, as_json=False) == 0
    out = capsys.readouterr()
    assert out.out == ""
    assert "SQL injection here" in out.err
    assert "finding" in out.err
