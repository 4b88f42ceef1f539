"""Fixtures for the maintenance tests: a clean Airbyte environment and a scripted Airbyte API."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_conductor.settings import Settings, reload_settings
from tests.maintenance.fake_airbyte import FakeAirbyte, serve


@pytest.fixture
def no_airbyte_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests never see a developer's real AIRBYTE_* or CONDUCTOR_AIRBYTE_* variables."""
    for name in list(os.environ):
        if name.startswith(("AIRBYTE_", "CONDUCTOR_AIRBYTE_")):
            monkeypatch.delenv(name)


@pytest.fixture
def fake(no_airbyte_env: None) -> Iterator[FakeAirbyte]:
    with serve(FakeAirbyte()) as running:
        yield running


@pytest.fixture
def airbyte_env(
    fake: FakeAirbyte, conductor_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """AIRBYTE_* variables pointing at the fake, read into fresh process settings."""
    monkeypatch.setenv("AIRBYTE_SERVER_URL", fake.url)
    monkeypatch.setenv("AIRBYTE_CLIENT_ID", fake.client_id)
    monkeypatch.setenv("AIRBYTE_CLIENT_SECRET", fake.client_secret)
    monkeypatch.setenv("AIRBYTE_CONNECTION_ID", "conn-1")
    yield reload_settings()
    monkeypatch.undo()
    reload_settings()
