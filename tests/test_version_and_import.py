"""`import ai_conductor` stays lazy (the CLI answers --help without the store, SQLAlchemy or
Prefect), and one version, the package metadata's, is reported everywhere."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import anyio
import pytest
from fastapi.testclient import TestClient

from tests.conftest import BIN

HEAVY = {"sqlalchemy", "alembic", "prefect", "pydantic", "pydantic_settings", "httpx", "yaml",
         "ai_conductor.api", "ai_conductor.store", "ai_conductor.settings"}  # fmt: skip
PROBE = """
import json, sys
import ai_conductor, ai_conductor.cli
loaded = sorted(set(sys.modules))
names = sorted(ai_conductor.__all__)
missing = [n for n in names if n not in dir(ai_conductor)]
resolved = {n: getattr(getattr(ai_conductor, n), "__module__", None) for n in names}
print(json.dumps({"loaded": loaded, "missing_from_dir": missing, "resolved": resolved,
                  "version": ai_conductor.__version__}))
"""


def test_importing_the_package_and_the_cli_loads_nothing_heavy() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         timeout=120, check=True)  # fmt: skip
    probe = json.loads(out.stdout)
    assert HEAVY.isdisjoint(probe["loaded"]), sorted(HEAVY & set(probe["loaded"]))
    assert probe["missing_from_dir"] == []
    assert probe["resolved"]["run_spec"] == "ai_conductor.api"
    assert probe["resolved"]["WorkflowSpec"] == "ai_conductor.spec"
    assert probe["version"] == version("ai-conductor")


def test_every_public_name_is_the_real_object_and_unknown_names_fail() -> None:
    import ai_conductor
    from ai_conductor import api, errors, spec

    assert ai_conductor.run_spec is api.run_spec
    assert ai_conductor.Workflowconductor is api.WorkflowConductor
    assert ai_conductor.SpecError is errors.SpecError
    assert ai_conductor.load_spec is spec.load_spec
    with pytest.raises(AttributeError, match="no_such_name"):
        ai_conductor.no_such_name  # type: ignore[attr-defined]  # noqa: B018


def test_conductor_version_healthz_mcp_and_analysis_json_say_the_package_version(
    conductor_home: Path, tmp_path: Path
) -> None:
    from mcp import Client

    from ai_conductor.analysis.engine import analyze
    from ai_conductor.server.http_api import create_app
    from ai_conductor.server.mcp_server import build_mcp_server
    from ai_conductor.server.runs import RunManager
    from ai_conductor.settings import get_settings

    expected = version("ai-conductor")
    cli = subprocess.run([str(BIN / "conductor"), "--version"], capture_output=True, text=True,
                         timeout=60)  # fmt: skip
    assert (cli.returncode, cli.stdout) == (0, f"conductor {expected}\n"), cli.stderr
    with TestClient(create_app(get_settings())) as client:
        assert client.get("/healthz").json()["version"] == expected
    manager = RunManager(get_settings())

    async def server_version() -> str | None:
        async with Client(build_mcp_server(manager)) as client:
            info = client.server_info
            return info.version if info else None

    try:
        assert anyio.run(server_version) == expected
    finally:
        manager.shutdown()
    (tmp_path / "m.py").write_text("import os\n")
    report = analyze(tmp_path, remember=False)
    assert report.generator_version == expected


def test_a_source_checkout_that_is_not_installed_says_its_pyproject_version(
    tmp_path: Path,
) -> None:
    from ai_conductor._version import UNKNOWN, source_version

    ours = tmp_path / "pyproject.toml"
    ours.write_text('[project]\nname = "ai-conductor"\nversion = "9.8.7"\n', encoding="utf-8")
    other = tmp_path / "other.toml"
    other.write_text('[project]\nname = "something-else"\nversion = "1.0"\n', encoding="utf-8")
    assert source_version(ours) == "9.8.7"
    assert source_version(other) == UNKNOWN
    assert source_version(tmp_path / "missing.toml") == UNKNOWN
    assert source_version(Path(__file__).parents[1] / "pyproject.toml") == version("ai-conductor")
