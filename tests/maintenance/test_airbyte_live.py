"""A real Airbyte sync, run only when credentials for a real Airbyte are in the environment.

Set AIRBYTE_CONNECTION_ID and either AIRBYTE_API_KEY or AIRBYTE_CLIENT_ID + AIRBYTE_CLIENT_SECRET
(plus AIRBYTE_SERVER_URL for a self-hosted Airbyte). The sync really runs: use a small connection.
"""

from __future__ import annotations

import os

import pytest

from ai_conductor.maintenance.airbyte import airbyte_sync
from ai_conductor.settings import reload_settings

HAS_CREDENTIALS = bool(os.environ.get("AIRBYTE_API_KEY")) or bool(
    os.environ.get("AIRBYTE_CLIENT_ID") and os.environ.get("AIRBYTE_CLIENT_SECRET")
)
pytestmark = pytest.mark.skipif(
    not (HAS_CREDENTIALS and os.environ.get("AIRBYTE_CONNECTION_ID")),
    reason="no real Airbyte: set AIRBYTE_CONNECTION_ID and AIRBYTE_API_KEY (or "
    "AIRBYTE_CLIENT_ID + AIRBYTE_CLIENT_SECRET) to run it",
)


@pytest.mark.slow
@pytest.mark.usefixtures("conductor_home")
def test_real_airbyte_sync_succeeds() -> None:
    timeout = float(os.environ.get("AIRBYTE_TEST_TIMEOUT", "1800"))
    result = airbyte_sync(reload_settings(), timeout=timeout, poll_interval=15)
    assert result.ok, result
    assert result.job_id > 0
    assert result.connection_id == os.environ["AIRBYTE_CONNECTION_ID"]
