"""Resolving the Airbyte target from settings (AIRBYTE_* aliases) or an AirbyteCredentials block."""

from __future__ import annotations

import pytest

from ai_conductor.blocks.airbyte import AirbyteCredentials
from ai_conductor.errors import ConfigError
from ai_conductor.maintenance.airbyte_config import normalize_server_url, resolve_airbyte_config
from ai_conductor.settings import Settings

pytestmark = pytest.mark.usefixtures("no_airbyte_env")


def test_airbyte_variables_without_prefix_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRBYTE_API_URL", "https://api.airbyte.com")
    monkeypatch.setenv("AIRBYTE_API_KEY", "tok-abcdef")
    monkeypatch.setenv("AIRBYTE_CONNECTION_ID", "c-1")
    config = resolve_airbyte_config(Settings())
    assert config.server_url == "https://api.airbyte.com/v1"
    assert (config.auth, config.connection_id, config.source) == ("bearer token", "c-1", "settings")
    assert "tok-abcdef" not in repr(config)


def test_prefixed_variables_win_and_give_an_absolute_token_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRBYTE_SERVER_URL", "http://other/api/public/v1")
    monkeypatch.setenv("CONDUCTOR_AIRBYTE_SERVER_URL", "http://airbyte.local:8000/api/public/v1/")
    monkeypatch.setenv("CONDUCTOR_AIRBYTE_CLIENT_ID", "id")
    monkeypatch.setenv("CONDUCTOR_AIRBYTE_CLIENT_SECRET", "secret")
    config = resolve_airbyte_config(Settings(), connection_id="c-2")
    assert config.token_url == "http://airbyte.local:8000/api/public/v1/applications/token"
    assert (config.auth, config.connection_id) == ("client credentials", "c-2")


def test_no_credentials_names_every_way_to_configure() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_airbyte_config(Settings(airbyte_connection_id="c"))
    for name in ("AIRBYTE_CLIENT_ID", "AIRBYTE_CLIENT_SECRET", "AIRBYTE_API_KEY",
                 "CONDUCTOR_AIRBYTE_BLOCK"):  # fmt: skip
        assert name in str(caught.value)


def test_half_a_client_credential_names_the_missing_half() -> None:
    with pytest.raises(ConfigError, match="set AIRBYTE_CLIENT_SECRET in the environment"):
        resolve_airbyte_config(Settings(airbyte_client_id="id", airbyte_connection_id="c"))


def test_missing_connection_says_how_to_give_one() -> None:
    with pytest.raises(ConfigError, match="pass --connection-id ID or set AIRBYTE_CONNECTION_ID"):
        resolve_airbyte_config(Settings(airbyte_api_key="k"))


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "https://api.airbyte.com/v1"),
        ("https://api.airbyte.com/", "https://api.airbyte.com/v1"),
        ("https://api.airbyte.com/v1/", "https://api.airbyte.com/v1"),
        ("http://localhost:8000/api/public/v1", "http://localhost:8000/api/public/v1"),
    ],
)
def test_server_urls(given: str | None, expected: str) -> None:
    assert normalize_server_url(given) == expected


def test_a_server_url_that_is_not_http_is_rejected() -> None:
    with pytest.raises(ConfigError, match="not an http"):
        normalize_server_url("airbyte.local:8000")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_credentials_block_is_loaded_by_name() -> None:
    AirbyteCredentials(
        server_url="http://airbyte.local/api/public/v1/", client_id="block-id",
        client_secret="block-secret", connection_id="block-conn",
    ).save("conductor-test-airbyte", overwrite=True)  # fmt: skip
    config = resolve_airbyte_config(Settings(airbyte_block="conductor-test-airbyte"))
    assert config.server_url == "http://airbyte.local/api/public/v1"
    assert (config.client_id, config.connection_id) == ("block-id", "block-conn")
    assert config.client_secret is not None
    assert config.client_secret.get_secret_value() == "block-secret"
    assert config.source == "block 'conductor-test-airbyte'"
    with pytest.raises(ConfigError, match=r"block 'no-such-airbyte' \(CONDUCTOR_AIRBYTE_BLOCK\)"):
        resolve_airbyte_config(Settings(airbyte_block="no-such-airbyte"))


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_block_without_credentials_names_its_fields() -> None:
    AirbyteCredentials(connection_id="c").save("conductor-test-airbyte-empty", overwrite=True)
    with pytest.raises(ConfigError, match="set its client_id and client_secret, or api_key"):
        resolve_airbyte_config(Settings(airbyte_block="conductor-test-airbyte-empty"))
