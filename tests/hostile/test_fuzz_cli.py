"""`conductor validate` on random files, as the user runs it: exit 0 or 2, never a traceback."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings

from tests.conftest import BIN
from tests.hostile._strategies import TRIED, report, spec_files

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-cli")


def test_conductor_validate_random_files(scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CONDUCTOR_", "PREFECT_API"))}
    env["CONDUCTOR_HOME"] = str(scratch / "home")
    path = scratch / "spec.yaml"
    exits: dict[int, int] = {}

    @settings(max_examples=40, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
    @given(spec_files)
    @example(b"workflow_id: w\ntasks: [{id: t, agent: noop}]\n")
    @example(b'{"workflow_id": "w", "tasks": ' + b"[" * 50_000 + b"]" * 50_000 + b"}")
    @example(b"!!timestamp x\n")
    @example(b"\xff\xfe\x00w")
    def check(content: bytes) -> None:
        TRIED["cli validate"] += 1
        path.write_bytes(content)
        proc = subprocess.run(
            [str(BIN / "conductor"), "validate", str(path)], env=env, capture_output=True,
            text=True, errors="replace", timeout=60, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        exits[proc.returncode] = exits.get(proc.returncode, 0) + 1
        assert proc.returncode in (0, 2), (proc.returncode, proc.stderr[-2000:])
        assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-2000:]
        if proc.returncode == 2:
            assert str(path) in proc.stderr + proc.stdout

    check()
    with capsys.disabled():
        print(f"\n{report('cli validate', 40)} (exit codes {dict(sorted(exits.items()))})")
