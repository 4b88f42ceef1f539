"""The end-to-end stack: a real `prefect server start` (SQLite, then PostgreSQL), the project's
deployments applied to it, and process workers whose flow runs write the conductor audit log to
a fresh database. The processes' logs are attached to the report of a failing test."""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests._pg import create_database, drop_database, new_database_name
from tests.conftest import REPO, _missing
from tests.e2e import _checks, _stack

WORKERS = {"sqlite": 1, "postgresql": 2}
"""Process workers per backend: two on PostgreSQL (the several-workers path), each limited to
one flow run at a time, so two runs at once must be picked up by different workers."""


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for name, log in list(_stack.LIVE.items()):
            report.sections.append((f"log of {name} ({log})", _stack.log_tail(log)))
    return report


@dataclass
class Stack:
    """A running server, the output of the deployment step, and (once started) its workers."""

    server: _stack.PrefectServer
    root: Path
    audit_url: str
    """CONDUCTOR_DATABASE_URL of the workers' flow runs (the audit log)."""
    deploy_argv: list[str] = field(default_factory=list)
    deploy: subprocess.CompletedProcess[str] | None = None
    worker_names: list[str] = field(default_factory=list)

    @property
    def backend(self) -> str:
        return self.server.backend

    def cli_env(self, **extra: str) -> dict[str, str]:
        return _stack.prefect_env(self.server.api_url, self.root / "cli-home", **extra)


def deploy(stack: Stack) -> None:
    """Apply prefect.yaml: `conductor deploy --create-pool` on PostgreSQL, `prefect work-pool
    create` + `prefect --no-prompt deploy --all` on SQLite."""
    env = stack.cli_env()
    if stack.backend == "postgresql":
        steps = [[_stack.CONDUCTOR, "deploy", "--create-pool"]]
    else:
        steps = [
            [_stack.PREFECT, "work-pool", "create", _stack.WORK_POOL, "--type", "process"],
            [_stack.PREFECT, "--no-prompt", "deploy", "--all"],
        ]
    for argv in steps:
        stack.deploy_argv = argv
        stack.deploy = _stack.run(argv, env, cwd=REPO, timeout=240)
        if stack.deploy.returncode != 0:
            return


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    """A Prefect server on ``request.param`` with the project's deployments applied."""
    backend: str = request.param
    root = tmp_path_factory.mktemp(f"e2e-{backend}")
    dropped: list[str] = []
    if backend == "postgresql":
        if importlib.util.find_spec("asyncpg") is None:
            _missing("asyncpg is not installed (Prefect's PostgreSQL driver)")
        server_db, audit_db = new_database_name(), new_database_name()
        server_url = create_database(server_db)  # skips when PostgreSQL is unreachable
        dropped.append(server_db)
        audit_url = create_database(audit_db)
        dropped.append(audit_db)
        async_url = make_url(server_url).set(drivername="postgresql+asyncpg")
        database_url: str | None = async_url.render_as_string(hide_password=False)
    else:
        database_url, audit_url = None, f"sqlite:///{root / 'audit.db'}"
    try:
        try:
            server = _stack.start_server(root, backend, database_url)
        except RuntimeError as exc:
            pytest.fail(str(exc))
        stack = Stack(server, root, audit_url)
        try:
            deploy(stack)
            yield stack
        finally:
            server.stop()
    finally:
        for name in dropped:
            drop_database(name)


@pytest.fixture(scope="module")
def workers(stack: Stack) -> Stack:
    """The stack with its process workers online (their flow runs log to ``audit_url``)."""
    if stack.deploy is None or stack.deploy.returncode != 0:
        output = stack.deploy.stdout[-4000:] if stack.deploy else ""
        pytest.fail(f"deployment step failed: {' '.join(stack.deploy_argv)}\n{output}")
    if stack.worker_names:
        return stack
    _checks.pause_schedules(stack.server.api_url)
    env = {
        "CONDUCTOR_HOME": str(stack.root / "conductor-home"),
        "CONDUCTOR_DATABASE_URL": stack.audit_url,
        # the tests' analyzer plugin (tests.e2e._barrier) is importable on the workers
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO), os.environ.get("PYTHONPATH")) if p),
    }
    names = [f"e2e-{stack.backend}-{i}" for i in range(1, WORKERS[stack.backend] + 1)]
    for name in names:
        _stack.start_worker(stack.server, stack.root, name, env)
    try:
        _stack.wait_for_workers(stack.server, names)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    stack.worker_names = names
    return stack
