"""`conductor analyze` as users and CI run it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests._sarif import sarif_validator
from tests.conftest import BIN, REPO, cli_env


def run(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "conductor"), "analyze", *args],
        capture_output=True, text=True, timeout=600,
        env=cli_env("http://127.0.0.1:9/api", home, **env),  # analyze never talks to Prefect
    )  # fmt: skip


def test_sarif_gate_new_only_and_step_summary(tmp_path: Path, conductor_home: Path) -> None:
    code = tmp_path / "defects"
    shutil.copytree(REPO / "examples" / "defects", code)
    summary = tmp_path / "step-summary.md"
    out = run(conductor_home, "--codebase", str(code), "--format", "sarif", "--fail-on", "high",
              GITHUB_STEP_SUMMARY=str(summary))  # fmt: skip
    assert out.returncode == 1, out.stderr
    assert "gate failed" in out.stderr
    sarif = json.loads(out.stdout)
    sarif_validator().validate(sarif)
    results = sarif["runs"][0]["results"]
    assert results
    assert all(r["partialFingerprints"] for r in results)
    assert "findings" in out.stderr  # the one-screen summary
    assert summary.read_text().strip()

    again = run(conductor_home, "--codebase", str(code), "--new-only", "-o",
                str(tmp_path / "a.json"), "--fail-on", "low")  # fmt: skip
    assert again.returncode == 0, again.stderr
    report = json.loads((tmp_path / "a.json").read_text())
    assert report["schema_version"] == "1.1"
    assert report["findings"] == []
    assert report["summary"]["existing"] > 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "--format 'xml'"),
        (["--fail-on", "sometimes"], "--fail-on 'sometimes'"),
        (["--focus", "astrology"], "unknown focus area"),
        (["--codebase", "/definitely/not/here"], "does not exist"),
        (["--tool", "nosuchtool"], "nosuchtool"),
    ],
)
def test_bad_input_exits_2_without_traceback(
    conductor_home: Path, args: list[str], message: str
) -> None:
    out = run(conductor_home, *args)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr
    assert "Traceback" not in out.stderr
