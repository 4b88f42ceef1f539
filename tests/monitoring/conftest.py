"""Monitoring fixtures: a real Prometheus Pushgateway (Debian's package) and the exporter CLI."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import BIN, _missing, cli_env

PUSHGATEWAY = "prometheus-pushgateway"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 10) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return int(reply.status), reply.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def families(text: str) -> dict[str, Any]:
    """Metric families of a Prometheus text exposition, by name."""
    from prometheus_client.parser import text_string_to_metric_families

    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(text: str, name: str, **labels: str) -> list[Any]:
    """Samples named ``name`` whose labels include ``labels``."""
    return [
        s
        for f in families(text).values()
        for s in f.samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]


def wait_http(url: str, proc: subprocess.Popen[Any], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{proc.args!r} exited {proc.returncode}: {log.read_text()[-2000:]}")
        try:
            if get(url, timeout=2)[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    pytest.fail(f"{url} did not answer in {timeout}s: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[Any]) -> int:
    proc.terminate()
    try:
        return proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """URL of a real Pushgateway on a free loopback port (no persistence file)."""
    binary = shutil.which(PUSHGATEWAY) or (
        "/usr/bin/prometheus-pushgateway"
        if os.access("/usr/bin/prometheus-pushgateway", os.X_OK)
        else None
    )
    if binary is None:
        _missing("prometheus-pushgateway is not installed (apt-get install prometheus-pushgateway)")
    assert binary is not None
    port = free_port()
    log = tmp_path / "pushgateway.log"
    argv = [binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="]
    with log.open("w") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{url}/-/ready", proc, log)
        yield url
    finally:
        stop(proc)


@pytest.fixture
def risky(tmp_path: Path) -> Path:
    """A codebase with a security finding (shell=True)."""
    root = tmp_path / "risky"
    root.mkdir()
    (root / "app.py").write_text(
        "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    )
    return root


@pytest.fixture
def push_to(
    pushgateway: str, conductor_home: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """CONDUCTOR_METRICS_PUSHGATEWAY set to the real Pushgateway for this test's flow runs."""
    from ai_conductor.settings import reload_settings

    monkeypatch.setenv("CONDUCTOR_METRICS_PUSHGATEWAY", pushgateway)
    reload_settings()
    yield pushgateway
    monkeypatch.delenv("CONDUCTOR_METRICS_PUSHGATEWAY")  # before conductor_home reloads
    reload_settings()


class Exporter:
    """A running ``conductor metrics serve`` subprocess."""

    def __init__(self, proc: subprocess.Popen[Any], url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def scrape(self) -> str:
        status, text = get(f"{self.url}/metrics")
        assert status == 200, text
        return text


@pytest.fixture
def start_exporter(
    prefect_api: str, conductor_home: Path, tmp_path: Path
) -> Iterator[Callable[[], Exporter]]:
    """Start ``conductor metrics serve --port P`` on this test's CONDUCTOR_HOME when called."""
    started: list[subprocess.Popen[Any]] = []

    def start() -> Exporter:
        port = free_port()
        log = tmp_path / f"exporter-{port}.log"
        argv = [str(BIN / "conductor"), "metrics", "serve", "--port", str(port)]
        env = cli_env(prefect_api, conductor_home)
        with log.open("w") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, env=env)
        started.append(proc)
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/healthz", proc, log)
        return Exporter(proc, url, log)

    yield start
    for proc in started:
        if proc.poll() is None:
            stop(proc)
