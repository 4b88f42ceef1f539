"""Airbyte sync through the official ``airbyte-api`` SDK, checked at the HTTP boundary.

Airbyte cannot run on these machines (Docker images only, no network), so ``fake_airbyte``
serves Airbyte's public API on loopback and records what the SDK sends: these tests check the
requests (token grant, connection id, job type, bearer header), the polling, cancellation on
timeout, and that errors name the setting to fix without ever showing a secret.
"""

from __future__ import annotations

import socket

import pytest

from ai_conductor.errors import ConfigError
from ai_conductor.maintenance.airbyte import AirbyteError, AirbyteSyncFailed, airbyte_sync
from ai_conductor.settings import Settings
from ai_conductor.store import open_audit_log
from tests.maintenance.fake_airbyte import FakeAirbyte


def _rows(settings: Settings) -> list[tuple[str, str, str | None]]:
    rows = open_audit_log(settings).query(workflow_id="maintenance")
    return [(r.action, r.status, r.agent_role) for r in rows]


def test_sync_triggers_the_connection_and_polls_until_succeeded(
    fake: FakeAirbyte, airbyte_env: Settings
) -> None:
    fake.statuses = ["running", "running", "succeeded"]
    result = airbyte_sync(airbyte_env, poll_interval=0.01)

    assert (result.job_id, result.status, result.polls) == (4242, "succeeded", 3)
    assert (result.bytes_synced, result.rows_synced) == (2048, 17)
    assert result.airbyte_duration == "PT1M2S"
    assert result.server_url == fake.url
    [token] = fake.requests("POST", "/applications/token")
    assert "grant_type=client_credentials" in token.body
    assert f"client_id={fake.client_id}" in token.body
    [create] = fake.requests("POST", "/jobs")
    assert create.json() == {"connectionId": "conn-1", "jobType": "sync"}
    polls = fake.requests("GET", "/jobs/4242")
    assert len(polls) == 3
    assert {s.headers["Authorization"] for s in [create, *polls]} == {f"Bearer {fake.token}"}
    assert not fake.requests("DELETE")
    assert _rows(airbyte_env) == [("airbyte-sync", "completed", "maintenance")]
    [row] = open_audit_log(airbyte_env).query(workflow_id="maintenance")
    assert row.metadata["job_id"] == 4242
    assert row.metadata["status"] == "succeeded"


def test_connection_id_argument_overrides_the_setting(
    fake: FakeAirbyte, airbyte_env: Settings
) -> None:
    fake.connections = ("conn-1", "conn-other")
    result = airbyte_sync(airbyte_env, connection_id="conn-other", poll_interval=0.01)
    assert result.connection_id == "conn-other"
    assert fake.requests("POST", "/jobs")[0].json()["connectionId"] == "conn-other"


def test_bearer_token_needs_no_token_request(fake: FakeAirbyte, conductor_home: object) -> None:
    settings = Settings(
        airbyte_server_url=fake.url, airbyte_api_key=fake.token, airbyte_connection_id="conn-1"
    )
    assert airbyte_sync(settings, poll_interval=0.01).ok
    assert not fake.requests("POST", "/applications/token")
    assert fake.requests("POST", "/jobs")[0].headers["Authorization"] == f"Bearer {fake.token}"


def test_failed_job_raises_with_its_status_and_is_audited(
    fake: FakeAirbyte, airbyte_env: Settings
) -> None:
    fake.statuses = ["running", "failed"]
    with pytest.raises(AirbyteSyncFailed, match=r"job 4242 \(connection conn-1\) ended failed"):
        airbyte_sync(airbyte_env, poll_interval=0.01)
    assert _rows(airbyte_env) == [("airbyte-sync", "failed", "maintenance")]


@pytest.mark.parametrize("status", ["cancelled", "incomplete"])
def test_other_final_statuses_are_failures(
    fake: FakeAirbyte, airbyte_env: Settings, status: str
) -> None:
    fake.statuses = [status]
    with pytest.raises(AirbyteSyncFailed) as caught:
        airbyte_sync(airbyte_env, poll_interval=0.01)
    assert caught.value.result.status == status
    assert caught.value.exit_code == 3


def test_timeout_cancels_the_job_and_says_so(fake: FakeAirbyte, airbyte_env: Settings) -> None:
    fake.statuses = ["running"]
    with pytest.raises(AirbyteSyncFailed, match=r"within 0.3s; cancellation was requested"):
        airbyte_sync(airbyte_env, timeout=0.3, poll_interval=0.05)
    [cancel] = fake.requests("DELETE", "/jobs/4242")
    assert cancel.headers["Authorization"] == f"Bearer {fake.token}"
    [row] = open_audit_log(airbyte_env).query(workflow_id="maintenance")
    assert (row.status, row.metadata["status"]) == ("timed_out", "timed_out")


def test_transient_poll_errors_are_retried(fake: FakeAirbyte, airbyte_env: Settings) -> None:
    fake.fail_polls = 2
    assert airbyte_sync(airbyte_env, poll_interval=0.01).ok
    assert len(fake.requests("GET", "/jobs/4242")) >= 3


def test_rejected_client_secret_is_a_config_error_without_the_secret(
    fake: FakeAirbyte, conductor_home: object
) -> None:
    secret = "wrong-secret-9f8e7d"
    settings = Settings(airbyte_server_url=fake.url, airbyte_client_id=fake.client_id,
                        airbyte_client_secret=secret, airbyte_connection_id="conn-1")  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        airbyte_sync(settings)
    message = str(caught.value)
    assert "401" in message
    assert f"{fake.url}/applications/token" in message
    assert "AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET" in message
    assert secret not in message
    assert caught.value.exit_code == 2
    assert not fake.requests("POST", "/jobs")


def test_rejected_bearer_token_is_a_config_error_without_the_token(
    fake: FakeAirbyte, conductor_home: object
) -> None:
    token = "stale-token-1a2b3c"
    settings = Settings(
        airbyte_server_url=fake.url, airbyte_api_key=token, airbyte_connection_id="conn-1"
    )
    with pytest.raises(ConfigError, match=r"rejected the bearer token \(HTTP 401\)") as caught:
        airbyte_sync(settings)
    assert token not in str(caught.value)
    assert "AIRBYTE_API_KEY" in str(caught.value)


def test_unknown_connection_names_the_connection(fake: FakeAirbyte, airbyte_env: Settings) -> None:
    with pytest.raises(ConfigError, match=r"HTTP 404.*'conn-missing'"):
        airbyte_sync(airbyte_env, connection_id="conn-missing")


def test_unreachable_server_is_a_clear_error(conductor_home: object, no_airbyte_env: None) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens here
    settings = Settings(airbyte_server_url=f"http://127.0.0.1:{port}/api/public/v1",
                        airbyte_api_key="k-123456", airbyte_connection_id="c")  # fmt: skip
    with pytest.raises(AirbyteError, match=rf"cannot reach Airbyte at http://127.0.0.1:{port}"):
        airbyte_sync(settings)


def test_credentials_in_the_server_url_never_reach_messages_or_the_audit_log(
    conductor_home: object, no_airbyte_env: None
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = Settings(
        airbyte_server_url=f"http://airbyte:hunter2pw@127.0.0.1:{port}/api/public/v1",
        airbyte_api_key="k-123456", airbyte_connection_id="c",
    )  # fmt: skip
    with pytest.raises(AirbyteError) as caught:
        airbyte_sync(settings)
    assert "hunter2pw" not in str(caught.value)
    assert f"***@127.0.0.1:{port}" in str(caught.value)
    assert all("hunter2pw" not in str(row) for row in _rows(settings))
