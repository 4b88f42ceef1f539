"""Planted secrets never leak: not to stdout/stderr, files, the audit table, Prefect artifacts or
logs, HTTP or MCP responses.

Distinctive secrets are planted where a user puts them: API keys in the environment
(``OPENAI_API_KEY``, ``ANTHROPIC_API_KEY``, ``CONDUCTOR_API_TOKEN``), a PostgreSQL password in
``CONDUCTOR_DATABASE_URL`` (a real role with that password owns a fresh database), an
``LLMBackendConfig`` block's ``api_key`` and an ``AirbyteCredentials`` block's
``client_secret`` (saved on the session's Prefect API), and a ``https://user:TOKEN@host`` git
URL (the codebase's ``origin`` remote, and given as a codebase). Then the product runs for real:
``conductor analyze`` (json, sarif, markdown), ``conductor run`` of an analyzer + implementer
workflow whose openai backend talks to a loopback server that answers 401 echoing the key and
500 quoting the Authorization header (so errors carrying secrets flow through the product),
``conductor logs --json``, ``conductor maintenance airbyte-sync`` against a closed port, a
database URL with the password and a wrong port, ``conductor serve --http`` (runs, metrics,
errors, wrong token) and MCP over its streamable HTTP transport (official client). Everything
is then scanned, raw and URL-encoded, and the amounts scanned are asserted (a scan of nothing
proves nothing).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from tests._pg import pg_server_url, pg_unavailable
from tests.conftest import BIN, cli_env
from tests.implement._wire import Reply, Request, WireServer, error

pytestmark = pytest.mark.slow

TAG = secrets.token_hex(4)
OPENAI_KEY = f"sk-PLANTED-openai-{TAG}"
ANTHROPIC_KEY = f"sk-ant-PLANTED-anthropic-{TAG}"
API_TOKEN = f"PLANTED-api-token-{TAG}"
PG_PASSWORD = f"PLANTEDpgpass{TAG}"
BLOCK_KEY = f"sk-PLANTED-block-{TAG}"
AIRBYTE_SECRET = f"PLANTED-airbyte-secret-{TAG}"
GIT_TOKEN = f"PLANTEDgittoken{TAG}"
GIT_URL = f"https://user:{GIT_TOKEN}@git.example.invalid/repo.git"
PLANTED = {"openai key": OPENAI_KEY, "anthropic key": ANTHROPIC_KEY, "api token": API_TOKEN,
           "pg password": PG_PASSWORD, "llm block key": BLOCK_KEY,
           "airbyte secret": AIRBYTE_SECRET, "git token": GIT_TOKEN}  # fmt: skip
NEEDLES = {
    form.encode(): name
    for name, value in PLANTED.items()
    for form in (value, quote(value, safe=""), quote(value, safe="").lower())
}


@dataclass
class Scan:
    """Everything the product produced, scanned for the planted secrets."""

    leaks: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    bytes: int = 0

    def check(self, kind: str, where: str, data: bytes | str) -> None:
        blob = data.encode() if isinstance(data, str) else data
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.bytes += len(blob)
        for needle, name in NEEDLES.items():
            if needle in blob:
                at = blob.index(needle)
                context = blob[max(0, at - 120) : at + 60].decode(errors="replace")
                self.leaks.append(f"{name} in {kind} {where}: ...{context}...")

    def tree(self, kind: str, root: Path) -> None:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not path.is_symlink():
                self.check(kind, str(path), path.read_bytes())


@dataclass
class Env:
    home: Path
    out: Path
    repo: Path
    db_url: str
    prefect_api: str
    wire: WireServer
    scan: Scan
    procs: list[tuple[str, subprocess.CompletedProcess[bytes]]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        base = cli_env(self.prefect_api, self.home, OPENAI_API_KEY=OPENAI_KEY,
                       ANTHROPIC_API_KEY=ANTHROPIC_KEY, CONDUCTOR_API_TOKEN=API_TOKEN,
                       CONDUCTOR_DATABASE_URL=self.db_url,
                       CONDUCTOR_ALLOWED_ROOTS=str(self.repo.parent))  # fmt: skip
        return base | extra

    def conductor(self, *args: str, env: dict[str, str] | None = None) -> int:
        argv = [str(BIN / "conductor"), *args]
        done = subprocess.run(argv, env=env or self.env(), capture_output=True, timeout=300,
                              cwd=self.out)  # fmt: skip
        self.procs.append((" ".join(args), done))
        self.scan.check("subprocess output", f"conductor {' '.join(args)}",
                        done.stdout + b"\n" + done.stderr)  # fmt: skip
        return done.returncode


class EchoWire(WireServer):
    """Answers what careless services do: a 401 echoing the key it got, then a 500 quoting the
    request's Authorization header, alternately."""

    def _next(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            n = len(self.requests)
        auth = request.headers.get("authorization", "")
        if n % 2:
            return error(401, f"Incorrect API key provided: {auth.removeprefix('Bearer ')}")
        return error(500, f"upstream failed; your request had Authorization: {auth}")


@pytest.fixture
def pg_role() -> Iterator[str]:
    """A fresh database owned by a fresh role whose password is the planted one; its URL."""
    admin = create_engine(pg_server_url(), isolation_level="AUTOCOMMIT", poolclass=NullPool,
                          connect_args={"connect_timeout": 5})  # fmt: skip
    role, db = f"planted_{TAG}_{secrets.token_hex(3)}", f"conductor_secrets_{secrets.token_hex(5)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{PG_PASSWORD}'"))
            conn.execute(text(f'CREATE DATABASE "{db}" OWNER "{role}"'))
    except OperationalError:
        pg_unavailable("PostgreSQL not reachable: set CONDUCTOR_TEST_PG_URL")
    base = make_url(pg_server_url())
    url = base.set(username=role, password=PG_PASSWORD, database=db)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


@pytest.fixture
def planted(tmp_path: Path, prefect_api: str, pg_role: str) -> Iterator[Env]:
    from ai_conductor.blocks import AirbyteCredentials, LLMBackendConfig

    repo = tmp_path / "roots" / "repo"
    repo.mkdir(parents=True)
    (repo / "app.py").write_text("import os\nimport sys\n\n\ndef run(cmd):\n    return eval(cmd)\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "remote", "add", "origin", GIT_URL)
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "add", ".")
    _git(repo, "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "init")
    wire = EchoWire().start()
    LLMBackendConfig(provider="openai", model="m", base_url=f"{wire.url}/v1", api_key=BLOCK_KEY,
                     retries=0).save(f"planted-llm-{TAG}", overwrite=True)  # fmt: skip
    AirbyteCredentials(server_url=f"http://127.0.0.1:{_free_port()}/api/public/v1",
                       client_id="planted-client", client_secret=AIRBYTE_SECRET,
                       connection_id=str(uuid.uuid4())).save(f"planted-airbyte-{TAG}",
                                                             overwrite=True)  # fmt: skip
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "inputs").mkdir()  # the specs this test writes (one names the git URL): unscanned
    env = Env(tmp_path / "home", out, repo, pg_role, prefect_api, wire, Scan())
    try:
        yield env
    finally:
        wire.stop()


def _workflow(env: Env, name: str, implementer: dict[str, Any]) -> Path:
    spec = {"workflow_id": f"secrets-{name}", "codebase": str(env.repo),
            "agents": {"implementer": implementer},
            "tasks": [{"id": "analyze", "agent": "analyzer"},
                      {"id": "fix", "agent": "implementer", "dependencies": ["analyze"],
                       "inputs": {"attempts": 1, "test_timeout": 60}}]}  # fmt: skip
    path = env.out.parent / "inputs" / f"{name}.json"
    path.write_text(json.dumps(spec))
    return path


def _exercise_cli(env: Env) -> None:
    for fmt in ("json", "sarif", "md"):
        assert env.conductor("analyze", "--codebase", str(env.repo), "-o",
                             str(env.out / f"report.{fmt}")) in (0, 1)  # fmt: skip
    assert env.conductor("analyze", "--codebase", GIT_URL) == 2  # a URL is no codebase
    block = _workflow(env, "block", {"backend": "openai",
                                     "options": {"llm_block": f"planted-llm-{TAG}"}})  # fmt: skip
    keyed = _workflow(
        env,
        "envkey",
        {
            "backend": "openai",
            "options": {
                "model": "m",
                "base_url": f"{env.wire.url}/v1",
                "retries": 0,
                "llm_block": "",
            },
        },
    )
    for spec in (block, keyed):
        env.conductor("run", "-c", str(spec), "--json", "--fresh")
    assert len(env.wire.requests) >= 2, "the implementer never called the model"
    sent = {r.headers.get("authorization") for r in env.wire.requests}
    assert {f"Bearer {BLOCK_KEY}", f"Bearer {OPENAI_KEY}"} <= sent  # the keys did travel
    url_run = env.out.parent / "inputs" / "url.json"
    url_run.write_text(json.dumps({"workflow_id": "secrets-url", "codebase": GIT_URL,
                                   "tasks": [{"id": "a", "agent": "analyzer"}]}))  # fmt: skip
    assert env.conductor("run", "-c", str(url_run), "--json") != 0
    assert env.conductor("logs", "--json", "--limit", "100000") == 0
    assert env.conductor("logs", "--limit", "1000") == 0
    airbyte = env.env(CONDUCTOR_AIRBYTE_BLOCK=f"planted-airbyte-{TAG}")
    assert env.conductor("maintenance", "airbyte-sync", "--json", "--timeout", "5",
                         "--no-prefect", env=airbyte) != 0  # fmt: skip
    assert env.conductor("maintenance", "airbyte-sync", "--timeout", "5", env=airbyte) != 0
    bad_db = make_url(env.db_url).set(port=_free_port()).render_as_string(hide_password=False)
    assert env.conductor("logs", "--json", env=env.env(CONDUCTOR_DATABASE_URL=bad_db)) != 0
    assert env.conductor("analyze", "--codebase", str(env.repo), "-o", str(env.out / "x.json"),
                         env=env.env(CONDUCTOR_DATABASE_URL=bad_db)) != 0  # fmt: skip


async def _mcp(url: str, env: Env) -> list[str]:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client

    bodies: list[str] = []
    auth = {"Authorization": f"Bearer {API_TOKEN}"}
    async with (
        httpx2.AsyncClient(headers=auth, timeout=60) as http,
        Client(streamable_http_client(f"{url}/mcp", http_client=http)) as mcp,
    ):
        started = await mcp.call_tool("analyze", {"codebase": str(env.repo)})
        bodies.append(started.model_dump_json())
        run_id = started.structured_content["run_id"]
        for _ in range(600):
            got = await mcp.call_tool("get_run", {"run_id": run_id})
            if got.structured_content["status"] not in ("pending", "running"):
                break
            await asyncio.sleep(0.2)
        bodies.append(got.model_dump_json())
        for name, args in (("analyze", {"codebase": GIT_URL}), ("list_runs", {"limit": 500}),
                               ("get_run", {"run_id": "0" * 32}),
                               ("run_workflow", {"spec": {"workflow_id": "u", "codebase": GIT_URL,
                                "tasks": [{"id": "a", "agent": "noop"}]}}),
                               ("list_findings", {"run_id": run_id}),
                               ("validate_spec", {"spec": {"workflow_id": "v",
                                "codebase": GIT_URL, "tasks": []}})):  # fmt: skip
            bodies.append((await mcp.call_tool(name, args)).model_dump_json())
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {GIT_TOKEN}"}) as http:
        try:
            async with Client(streamable_http_client(f"{url}/mcp", http_client=http)) as mcp:
                await mcp.list_tools()
        except Exception as exc:  # refused: the wrong token
            bodies.append(f"{type(exc).__name__}: {exc}")
    return bodies


def _exercise_server(env: Env) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [str(BIN / "conductor"), "serve", "--http", "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(argv, env=env.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, "conductor serve --http exited"
            try:
                if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        auth = {"Authorization": f"Bearer {API_TOKEN}"}
        with httpx.Client(base_url=url, headers=auth, timeout=60) as http:
            r = http.post("/runs", json={"kind": "analyze", "params": {"codebase": str(env.repo)}})
            assert r.status_code == 202, r.text
            run_id = r.json()["run_id"]
            for _ in range(600):
                info = http.get(f"/runs/{run_id}")
                if info.json()["status"] not in ("pending", "running"):
                    break
                time.sleep(0.2)
            wf = {"workflow_id": "http-url", "codebase": GIT_URL,
                  "tasks": [{"id": "a", "agent": "analyzer"}]}  # fmt: skip
            replies = [
                r, info, http.get("/runs"), http.get("/metrics"), http.get("/tasks"),
                http.get(f"/runs/{run_id}/status"), http.get("/runs/" + "0" * 32),
                http.post("/runs", json={"kind": "analyze", "params": {"codebase": GIT_URL}}),
                http.post("/runs", json={"kind": "workflow", "params": {"spec": wf}}),
                http.post("/workflows/validate", json={"spec": wf}),
                http.post("/runs", json={"kind": "implement", "params": {
                    "analysis_run_id": run_id, "codebase": GIT_URL}}),
                httpx.get(f"{url}/runs", headers={"Authorization": f"Bearer {GIT_TOKEN}"}),
                httpx.get(f"{url}/runs", headers={"Authorization": f"Bearer {API_TOKEN}x"}),
                httpx.get(f"{url}/runs"),
            ]  # fmt: skip
            assert replies[1].json()["status"] == "completed", replies[1].text
            assert replies[3].status_code == 200
            assert b"conductor" in replies[3].content
            assert replies[11].status_code == 401
            for reply in replies:
                env.scan.check("HTTP response", f"{reply.request.method} {reply.request.url.path}",
                               reply.content + repr(reply.headers).encode())  # fmt: skip
            submitted = http.get("/runs", params={"limit": 500})
        for body in asyncio.run(_mcp(url, env)):
            env.scan.check("MCP response", "tool call", body)
        env.scan.check("HTTP response", "GET /runs (after MCP)", submitted.content)
    finally:
        proc.terminate()
        stdout, stderr = proc.communicate(timeout=30)
        env.scan.check("subprocess output", "conductor serve --http", stdout + b"\n" + stderr)


def _scan_stores(env: Env, started: float) -> None:
    from ai_conductor.store import coordination_logs

    scan = env.scan
    scan.tree("file", env.home)
    scan.tree("file", env.out)
    prefect_home = Path(os.environ["PREFECT_HOME"])  # persisted results of the in-process runs
    if (prefect_home / "storage").exists():
        scan.tree("file", prefect_home / "storage")
    engine = create_engine(env.db_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(coordination_logs)).all()
            for table in ("analysis_runs", "findings", "dismissals"):
                for row in conn.execute(text(f'SELECT * FROM "{table}"')).all():
                    scan.check("database row", table, repr(tuple(row)))
    finally:
        engine.dispose()
    for row in rows:
        scan.check("audit row", f"coordination_logs {row.id}", repr(tuple(row)))
    assert {"started", "finished", "attempt"} <= {r.action for r in rows}, "runs left no audit"
    asyncio.run(_scan_prefect(env, started))


async def _scan_prefect(env: Env, started: float) -> None:
    """Every flow run, task run, log and artifact on the Prefect API since the test began."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterStartTime,
        LogFilter,
        LogFilterFlowRunId,
    )

    scan = env.scan
    since = FlowRunFilter(start_time=FlowRunFilterStartTime(after_=_dt(started - 5)))
    async with get_client() as client:
        runs = await client.read_flow_runs(flow_run_filter=since, limit=200)
        for run in runs:
            scan.check("prefect flow run", run.name, run.model_dump_json())
        ids = [r.id for r in runs]
        for run in runs:
            for t in await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id={"any_": [run.id]}), limit=200
            ):
                scan.check("prefect task run", t.name, t.model_dump_json())
        offset = 0
        while ids:
            logs = await client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)),
                limit=200, offset=offset,
            )  # fmt: skip
            for log in logs:
                scan.check("prefect log", str(log.flow_run_id), log.message)
            if len(logs) < 200:
                break
            offset += 200
        offset = 0
        while True:
            artifacts = await client.read_artifacts(limit=200, offset=offset)
            for artifact in artifacts:
                scan.check("prefect artifact", str(artifact.key), artifact.model_dump_json())
            if len(artifacts) < 200:
                break
            offset += 200
    scan.counts.setdefault("prefect flow run", 0)


def _dt(ts: float) -> Any:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(ts, UTC)


def test_planted_secrets_appear_nowhere(planted: Env) -> None:
    started = time.time()
    _exercise_cli(planted)
    _exercise_server(planted)
    _scan_stores(planted, started)
    scan = planted.scan
    print(f"\nscanned: {scan.counts}, {scan.bytes} bytes; {len(planted.procs)} commands")
    assert not scan.leaks, "\n".join(scan.leaks)
    # the scan saw real material: reports, audit rows, runs, logs, responses
    counts = scan.counts
    assert counts["file"] >= 10, counts
    assert counts["audit row"] >= 20, counts
    assert counts["prefect flow run"] >= 3, counts
    assert counts.get("prefect log", 0) >= 1, counts
    assert counts["HTTP response"] >= 14, counts
    assert counts["MCP response"] >= 8, counts
    assert counts["subprocess output"] == len(planted.procs) + 1, counts
