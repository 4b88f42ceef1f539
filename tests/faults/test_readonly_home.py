"""$CONDUCTOR_HOME read-only (or a file in its way): `analyze`, `run` and `logs` exit 2 with a
message naming the path and what to do, never a traceback.

Root ignores permission bits, so as root the home is made immutable with ``chattr +i`` (the
kernel refuses new files in it whoever asks); elsewhere ``chmod 0555``. The second case points
CONDUCTOR_HOME below a regular file, which fails the same way for anyone.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BIN, _missing, cli_env
from tests.faults.conftest import record_figures

pytestmark = pytest.mark.slow


def _make_read_only(home: Path) -> str:
    """Make ``home`` refuse new files; returns how (to undo it)."""
    if os.geteuid() != 0:
        home.chmod(0o555)
        return "chmod"
    if shutil.which("chattr"):
        done = subprocess.run(["chattr", "+i", str(home)], capture_output=True, text=True)
        if done.returncode == 0:
            return "chattr"
    _missing("running as root without a working chattr: cannot make a directory read-only")
    raise AssertionError("unreachable")


def _undo(home: Path, how: str) -> None:
    if how == "chattr":
        subprocess.run(["chattr", "-i", str(home)], check=False)
    else:
        home.chmod(0o755)


@pytest.fixture(params=["read-only", "file-in-the-way"])
def broken_home(request: pytest.FixtureRequest, tmp_path: Path, prefect_api: str,
                codebase: Path) -> Iterator[Path]:  # fmt: skip
    if request.param == "file-in-the-way":
        (tmp_path / "a-file").write_text("not a directory\n")
        yield tmp_path / "a-file" / "home"
        return
    home = tmp_path / "home"
    # a home that worked before: the audit database and caches are there already
    first = subprocess.run(
        [str(BIN / "conductor"), "analyze", "--codebase", str(codebase), "--format", "json"],
        env=cli_env(prefect_api, home), capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert (home / "conductor.db").exists()
    how = _make_read_only(home)
    try:
        with pytest.raises(OSError):
            (home / "probe").write_text("x")  # really read-only, even for us
        yield home
    finally:
        _undo(home, how)


def test_unwritable_home_is_a_clear_error(
    broken_home: Path, prefect_api: str, codebase: Path, tmp_path: Path
) -> None:
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"workflow_id": "ro", "tasks": [{"id": "a", "agent": "noop"}]}))
    commands = {
        "analyze": ["analyze", "--codebase", str(codebase), "--format", "json"],
        "run": ["run", "--config", str(spec), "--codebase", str(codebase), "--json"],
        "logs": ["logs", "--json"],
    }
    env = cli_env(prefect_api, broken_home)
    for name, argv in commands.items():
        done = subprocess.run([str(BIN / "conductor"), *argv], env=env, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        both = done.stdout + done.stderr
        assert done.returncode == 2, f"{name}: exit {done.returncode}\n{both[-3000:]}"
        assert "Traceback" not in both, f"{name}: {both[-3000:]}"
        assert str(broken_home) in done.stderr, f"{name}: the path is not named: {done.stderr}"
        assert "CONDUCTOR_HOME" in done.stderr, done.stderr
        assert "writable" in done.stderr, done.stderr
        assert "point CONDUCTOR_HOME at a writable directory" in done.stderr  # what to do
    mode = "file-in-the-way" if broken_home.parent.name == "a-file" else "read-only"
    record_figures(f"readonly_home[{mode}]", commands=len(commands), exit_code=2,
                   tracebacks=0, python=sys.version.split()[0])  # fmt: skip
