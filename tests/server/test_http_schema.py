"""schemathesis against ``/openapi.json``: generated requests (valid and invalid), bounded
examples; no 5xx, and every response conforms to the schema."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

pytestmark = pytest.mark.slow
TOKEN = "schema-test-token-0123"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MAX_EXAMPLES = 15
# A schema-valid body can still be refused on its meaning (a codebase that does not exist, a
# spec with a cycle, params of another kind): 422 with the reason, by design.
SEMANTIC = [schemathesis.checks.positive_data_acceptance]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory, prefect_api: str) -> Iterator[str]:
    """The real server (``run_http``, uvicorn) in a subprocess on a loopback port."""
    base = tmp_path_factory.mktemp("schema")
    root = base / "roots"
    (root / "sample").mkdir(parents=True)
    (root / "sample" / "m.py").write_text("x = 1\n")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONDUCTOR_")}
    env |= {
        "CONDUCTOR_HOME": str(base / "home"),
        "CONDUCTOR_API_TOKEN": TOKEN,
        "CONDUCTOR_ALLOWED_ROOTS": str(root),
        "CONDUCTOR_MAX_PARALLEL_TASKS": "2",
        "PREFECT_API_URL": prefect_api,
    }
    code = (
        "from ai_conductor.cli._serve_http import run_http; "
        f"raise SystemExit(run_http('127.0.0.1', {port}))"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "the server exited"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        yield url
        deadline = time.monotonic() + 120  # let the generated runs finish before stopping
        while time.monotonic() < deadline:
            running = httpx.get(f"{url}/runs", params={"status": "running"}, headers=AUTH)
            if not running.json():
                break
            time.sleep(0.5)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def api_schema(base_url: str) -> Any:
    document = httpx.get(f"{base_url}/openapi.json", headers=AUTH).json()
    loaded = schemathesis.openapi.from_dict(document)
    loaded.config.update(base_url=base_url)
    return loaded


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_api_conforms(api_schema: Any, mode: str) -> None:
    """Every operation: generated cases (valid ones, then invalid ones) get no 5xx, and every
    response matches the schema (status code, content type, body, headers)."""
    from hypothesis import given
    from hypothesis.errors import Unsatisfiable
    from schemathesis import GenerationMode

    failures: list[str] = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy(generation_mode=GenerationMode(mode))

        @given(case=strategy)
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case: Any) -> None:
            case.call_and_validate(headers=AUTH, excluded_checks=SEMANTIC)

        try:
            check()
        except Unsatisfiable:  # nothing to get wrong: no parameters, no body (e.g. /healthz)
            assert mode == "negative", operation.label
        except Exception as exc:
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)


def test_schema_lists_the_endpoints(base_url: str) -> None:
    paths = set(httpx.get(f"{base_url}/openapi.json", headers=AUTH).json()["paths"])
    assert {"/tasks", "/runs", "/runs/{run_id}", "/runs/{run_id}/cancel", "/healthz"} <= paths
    assert {"/workflows/validate", "/metrics", "/runs/{run_id}/status"} <= paths
