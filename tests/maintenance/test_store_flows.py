"""weaviate-init, context-sync and prune: the flows on real Prefect, the CLI on the sub-app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ai_conductor.cli.maintenance import maintenance_app
from ai_conductor.errors import ConfigError
from ai_conductor.flows.maintenance import context_sync_flow, prune_flow, weaviate_init_flow
from ai_conductor.settings import Settings, get_settings, reload_settings
from ai_conductor.store import AuditEvent, open_audit_log
from tests.context.weaviate_mock import FakeWeaviate, Running
from tests.maintenance.test_flows import artifacts_of

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_api", "conductor_home")]


@pytest.fixture
def weaviate(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeWeaviate]:
    server = Running()
    monkeypatch.setenv("CONDUCTOR_CONTEXT_STORE", "weaviate")
    monkeypatch.setenv("WEAVIATE_URL", server.fake.url)
    monkeypatch.setenv("CONDUCTOR_WEAVIATE_GRPC_PORT", str(server.fake.grpc_port))
    reload_settings()
    try:
        yield server.fake
    finally:
        server.close()
        monkeypatch.undo()
        reload_settings()


def _maintenance_rows(settings: Settings) -> list[tuple[str, str]]:
    rows = open_audit_log(settings).query(workflow_id="maintenance")
    return [(r.action, r.status) for r in rows]


def test_weaviate_init_on_the_embedded_store_is_not_applicable() -> None:
    state = weaviate_init_flow(return_state=True)
    assert state.is_completed()
    data = state.result()
    assert (data["store"], data["action"]) == ("embedded", "not-applicable")
    assert "CONDUCTOR_CONTEXT_STORE=weaviate" in data["message"]
    report = artifacts_of(state.state_details.flow_run_id)["conductor-maintenance-weaviate-init"]
    assert "| action | not-applicable |" in report
    assert _maintenance_rows(get_settings()) == [("weaviate-init", "skipped")]


def test_weaviate_init_creates_the_collection_once(weaviate: FakeWeaviate) -> None:
    first = weaviate_init_flow()
    assert (first["store"], first["action"], first["message"]) == (
        "weaviate", "created", "created",
    )  # fmt: skip
    assert first["collection"] in weaviate.schema
    again = weaviate_init_flow()
    assert again["action"] == "unchanged"
    assert _maintenance_rows(get_settings()) == [
        ("weaviate-init", "completed"), ("weaviate-init", "completed"),
    ]  # fmt: skip


def test_weaviate_store_without_url_fails_with_the_variable_to_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONDUCTOR_CONTEXT_STORE", "weaviate")
    monkeypatch.delenv("WEAVIATE_URL", raising=False)
    monkeypatch.delenv("CONDUCTOR_WEAVIATE_URL", raising=False)
    reload_settings()
    state = weaviate_init_flow(return_state=True)
    assert state.is_failed()
    with pytest.raises(ConfigError, match="WEAVIATE_URL"):
        state.result()
    assert _maintenance_rows(get_settings()) == [("weaviate-init", "failed")]


def test_context_sync_copies_audit_events_into_the_embedded_store() -> None:
    settings = get_settings()
    log = open_audit_log(settings)
    log.record(AuditEvent("wf-ctx", "attempt", "kept", task_id="fix", agent_role="implementer",
                          metadata={"touched": ["app.py"], "group": "ruff/F401"}))  # fmt: skip
    log.flush()
    state = context_sync_flow(return_state=True)
    assert state.is_completed(), state.message
    data = state.result()
    assert data["copied"]["audit"] == 1
    assert data["total"] >= 1
    report = artifacts_of(state.state_details.flow_run_id)["conductor-maintenance-context-sync"]
    assert "# Context sync" in report
    assert context_sync_flow()["copied"].get("audit", 0) == 0  # nothing new since


def _old_and_new_rows(settings: Settings) -> None:
    log = open_audit_log(settings)
    old = datetime.now(UTC) - timedelta(days=40)
    for i in range(3):
        log.record(AuditEvent("wf-old", "succeeded", "completed", task_id=f"t{i}",
                              agent_role="analyzer", created_at=old))  # fmt: skip
    log.record(AuditEvent("wf-new", "succeeded", "completed", task_id="t", agent_role="analyzer"))
    log.flush()


def test_prune_flow_dry_run_counts_then_prune_deletes() -> None:
    settings = get_settings()
    _old_and_new_rows(settings)
    dry = prune_flow(older_than_days=30, dry_run=True)
    assert (dry["dry_run"], dry["audit_rows"]) == (True, 3)
    assert len(open_audit_log(settings).query(workflow_id="wf-old")) == 3
    done = prune_flow(older_than_days=30)
    assert (done["dry_run"], done["audit_rows"]) == (False, 3)
    assert open_audit_log(settings).query(workflow_id="wf-old") == []
    assert len(open_audit_log(settings).query(workflow_id="wf-new")) == 1
    assert _maintenance_rows(settings) == [("prune", "completed"), ("prune", "completed")]


def test_prune_cli_direct_and_weaviate_init_cli(conductor_home: Path) -> None:
    _old_and_new_rows(get_settings())
    runner = CliRunner()
    result = runner.invoke(maintenance_app, ["prune", "--older-than", "30", "--dry-run",
                                             "--no-prefect"])  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["audit_rows"] == 3
    assert "Prune history" in result.stderr
    result = runner.invoke(maintenance_app, ["weaviate-init", "--no-prefect", "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["action"] == "not-applicable"
    result = runner.invoke(maintenance_app, ["context-sync", "--json"])  # via the flow
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["failed"] == []


def test_prune_also_removes_the_worktrees_of_killed_runs(tmp_path: Path) -> None:
    from tests.implement.test_reclaim import killed_run, worktrees
    from tests.implement.test_workspace import make_repo

    settings = get_settings()
    repo = make_repo(tmp_path / "repo")
    killed_run(repo, settings.home_dir / "worktrees" / "dead-run", "conductor/wf/fix/x")
    assert len(worktrees(repo)) == 2
    assert prune_flow(older_than_days=30, dry_run=True)["worktrees_reclaimed"] == []
    assert len(worktrees(repo)) == 2
    assert prune_flow(older_than_days=30)["worktrees_reclaimed"] == ["dead-run"]
    assert worktrees(repo) == [str(repo)]
