"""``conductor maintenance`` through Typer's runner on the sub-app (stdout is not a terminal)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ai_conductor.cli.maintenance import maintenance_app
from ai_conductor.settings import Settings
from ai_conductor.store import open_audit_log
from tests.maintenance.fake_airbyte import FakeAirbyte


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(maintenance_app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_airbyte_sync_direct_prints_json_and_a_summary(
    fake: FakeAirbyte, airbyte_env: Settings
) -> None:
    code, out, err = invoke("airbyte-sync", "--no-prefect", "--poll-interval", "0.1")
    assert code == 0, err
    data = json.loads(out)
    assert (data["status"], data["job_id"], data["connection_id"]) == ("succeeded", 4242, "conn-1")
    assert "Airbyte sync" in err
    assert "succeeded" in err


def test_failed_job_exits_3_with_the_job_on_stdout(
    fake: FakeAirbyte, airbyte_env: Settings
) -> None:
    fake.statuses = ["incomplete"]
    code, out, err = invoke("airbyte-sync", "--no-prefect", "--connection-id", "conn-1")
    assert code == 3
    assert json.loads(out)["status"] == "incomplete"
    assert "error: Airbyte job 4242 (connection conn-1) ended incomplete" in err


def test_missing_configuration_exits_2_with_one_line(
    conductor_home: object, no_airbyte_env: None
) -> None:
    from ai_conductor.settings import reload_settings

    reload_settings()
    code, out, err = invoke("airbyte-sync", "--no-prefect", "--connection-id", "c")
    assert code == 2
    assert out == ""
    assert err.startswith("error: no Airbyte credentials in the environment: set AIRBYTE_CLIENT_ID")
    assert "Traceback" not in err


def test_bad_secret_never_reaches_the_output(
    fake: FakeAirbyte, airbyte_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ai_conductor.settings import reload_settings

    monkeypatch.setenv("AIRBYTE_CLIENT_SECRET", "leaky-secret-5150")
    reload_settings()
    code, out, err = invoke("airbyte-sync", "--no-prefect", "--json")
    assert code == 2
    assert "leaky-secret-5150" not in out + err
    assert "token endpoint" in err


def test_timeout_option_is_validated(airbyte_env: Settings) -> None:
    code, _, err = invoke("airbyte-sync", "--timeout", "0")
    assert code == 2
    assert "--timeout" in err


def flow_run_count(flow_name: str) -> int:
    """Runs of ``flow_name`` on the test server (posted without the nulls prefect 3.8 sends)."""
    from prefect.client.orchestration import get_client

    query = {"flows": {"name": {"any_": [flow_name]}}, "sort": "ID_DESC", "limit": 200}
    with get_client(sync_client=True) as client:
        response = client.request("POST", "/flow_runs/filter", json=query)
        response.raise_for_status()
    return len(response.json())


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_with_a_prefect_api_the_command_runs_the_flow(
    fake: FakeAirbyte, airbyte_env: Settings
) -> None:
    before = flow_run_count("airbyte-sync")
    code, out, err = invoke("airbyte-sync", "--poll-interval", "0.1", "--json")
    assert code == 0, err
    assert json.loads(out)["status"] == "succeeded"
    assert flow_run_count("airbyte-sync") == before + 1
    rows = open_audit_log(airbyte_env).query(workflow_id="maintenance")
    assert [(r.action, r.status) for r in rows] == [("airbyte-sync", "completed")]


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_a_failed_flow_run_exits_3_with_the_job_on_stdout(
    fake: FakeAirbyte, airbyte_env: Settings
) -> None:
    fake.statuses = ["cancelled"]
    code, out, err = invoke("airbyte-sync", "--prefect", "--poll-interval", "0.1")
    assert code == 3
    assert json.loads(out)["status"] == "cancelled"
    assert "ended cancelled" in err
