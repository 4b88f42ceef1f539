"""Test session setup: isolated Prefect and conductor homes, one Prefect test server per session."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

# Prefect reads its settings at import: isolate them before anything imports prefect.
# Results live under PREFECT_HOME/storage and prefect_test_harness does not isolate them.
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="conductor-tests-"))
os.environ["PREFECT_HOME"] = str(_SESSION_DIR / "prefect")
os.environ["CONDUCTOR_HOME"] = str(_SESSION_DIR / "conductor")
os.environ.pop("CONDUCTOR_DATABASE_URL", None)
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_api() -> Iterator[str]:
    """A Prefect test server for the session; yields its API URL (for subprocesses too)."""
    from prefect.settings import PREFECT_API_URL
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield str(PREFECT_API_URL.value())


@pytest.fixture
def conductor_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh CONDUCTOR_HOME (SQLite audit log, results, caches) for one test."""
    from ai_conductor.settings import reload_settings
    from ai_conductor.store import close_all

    home = tmp_path / "conductor-home"
    monkeypatch.setenv("CONDUCTOR_HOME", str(home))
    monkeypatch.delenv("CONDUCTOR_DATABASE_URL", raising=False)
    close_all()
    reload_settings()
    yield home
    close_all()
    reload_settings()


@pytest.fixture
def codebase(tmp_path: Path) -> Path:
    """A small directory to run workflows against."""
    root = tmp_path / "codebase"
    root.mkdir()
    (root / "main.py").write_text("print('hello')\n")
    return root


def cli_env(api_url: str, home: Path, **extra: str) -> dict[str, str]:
    """Environment for a `conductor` subprocess that reuses the session's Prefect server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    env.update(PREFECT_API_URL=api_url, CONDUCTOR_HOME=str(home), **extra)
    return env
