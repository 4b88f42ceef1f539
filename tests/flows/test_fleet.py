"""The fleet flow on real Prefect: three git repositories audited at once, one roll-up."""

from __future__ import annotations

import importlib.util
import itertools
import json
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from ai_conductor.analysis.gate import QualityGateFailed
from ai_conductor.errors import UsageError
from ai_conductor.flows.fleet import (
    FleetFailed,
    FleetRepo,
    FleetRequest,
    build_task_runner,
    fleet_audit_flow,
    plan,
)
from ai_conductor.flows.fleet_rollup import assign_slugs
from ai_conductor.flows.fleet_runner import local_cluster
from ai_conductor.settings import get_settings
from ai_conductor.store import open_audit_log
from tests.conftest import _missing

pytestmark = pytest.mark.usefixtures("prefect_api", "conductor_home")

SOURCES = {  # what the analyzer reports on these, measured: high 2 + low 2, medium 2, low 1
    "high": "import pickle\nimport subprocess\n\n\ndef run(cmd):\n"
    "    return subprocess.call(cmd, shell=True)\n\n\ndef load(data):\n"
    "    return pickle.loads(data)\n",
    "medium": "import tempfile\n\n\ndef scratch():\n    return tempfile.mktemp()\n\n\n"
    'HOST = "0.0.0.0"\n',
    "low": "import random\n\n\ndef pick(items):\n    return random.choice(items)\n",
}
TOKEN = "s3cr3t-t0ken-h5"


def make_repo(path: Path, severity: str) -> Path:
    path.mkdir(parents=True)
    (path / "code.py").write_text(SOURCES[severity])
    commit = ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", severity]
    for argv in (["init", "-q", "-b", "main"], ["add", "."], commit):
        subprocess.run(["git", *argv], cwd=path, check=True)
    return path


@pytest.fixture
def repos(tmp_path: Path) -> dict[str, Path]:
    """Two repositories both called ``app`` (slugs must differ) and a third one."""
    return {
        "high": make_repo(tmp_path / "team-a" / "app", "high"),
        "medium": make_repo(tmp_path / "team-b" / "app", "medium"),
        "low": make_repo(tmp_path / "lib", "low"),
    }


def intervals(rollup: dict[str, Any]) -> list[tuple[datetime, datetime]]:
    return sorted(
        (datetime.fromisoformat(r["started_at"]), datetime.fromisoformat(r["finished_at"]))
        for r in rollup["repos"]
    )


def task_runs(flow_run_id: str, expected: int) -> list[Any]:
    """The flow run's task runs as the Prefect API records them (state events land async)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import TaskRunSort

    flt = FlowRunFilter(id=FlowRunFilterId(any_=[UUID(flow_run_id)]))
    by_start = TaskRunSort.EXPECTED_START_TIME_ASC
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(flow_run_filter=flt, limit=50, sort=by_start)
            done = [r for r in runs if r.start_time and r.end_time]
            if len(done) >= expected or time.monotonic() > deadline:
                return done
            time.sleep(0.5)


def artifacts_of(flow_run_id: str) -> dict[str, str]:
    """Artifacts of one flow run by key (posted without null filters: see tests/reports)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
    from prefect.client.schemas.objects import Artifact

    flt = ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[UUID(flow_run_id)]))
    query = {"artifacts": flt.model_dump(mode="json", exclude_none=True)}
    with get_client(sync_client=True) as client:
        response = client.request("POST", "/artifacts/filter", json=query)
        response.raise_for_status()
    return {a.key or "": str(a.data) for a in Artifact.model_validate_list(response.json())}


def test_three_repositories_concurrently_into_one_rollup(
    repos: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "fleet"
    request = FleetRequest(
        repos=[FleetRepo(codebase=str(p)) for p in repos.values()],
        max_concurrency=3,
        output_dir=str(out),
    )
    rollup = fleet_audit_flow(request)

    assert json.loads((out / "fleet-rollup.json").read_text()) == rollup
    assert rollup["passed"] is True
    assert rollup["failed"] == []
    assert rollup["totals"]["repos"] == rollup["totals"]["completed"] == 3
    by_kind = dict(zip(repos, rollup["repos"], strict=True))
    slugs = [r["slug"] for r in rollup["repos"]]
    assert len(set(slugs)) == 3
    assert slugs[0].startswith("app-")
    assert slugs[1].startswith("app-")
    assert slugs[2] == "lib"
    high, medium, low = (by_kind[k]["by_severity"] for k in ("high", "medium", "low"))
    assert high.get("high", 0) >= 2
    assert medium.get("medium", 0) >= 2
    assert medium.get("high", 0) == 0
    assert low.get("low", 0) >= 1
    assert low.get("high", 0) == low.get("medium", 0) == 0
    assert rollup["totals"]["findings"] == sum(r["findings"] for r in rollup["repos"]) > 0
    assert rollup["totals"]["by_severity"]["high"] == sum(
        r["by_severity"].get("high", 0) for r in rollup["repos"]
    )
    for kind, repo in by_kind.items():
        assert repo["status"] == "completed"
        assert repo["codebase"] == str(repos[kind])
        assert repo["gate"] == "passed"
        assert repo["new"] == repo["findings"]
        sarif = json.loads((out / repo["reports"]["sarif"]).read_text())
        assert sarif["runs"]
        assert sarif["runs"][0]["results"]
        report = json.loads((out / repo["reports"]["json"]).read_text())
        assert report["summary"]["total"] == repo["findings"]
        assert (out / repo["reports"]["markdown"]).read_text().strip()
    markdown = (out / "fleet-rollup.md").read_text()
    assert all(
        f"| {r['name']} | {r['codebase']} | completed |" in markdown for r in by_kind.values()
    )

    # concurrency, for real: every audit started before any of them finished
    spans = intervals(rollup)
    assert max(start for start, _ in spans) < min(end for _, end in spans)
    runs = task_runs(rollup["run_id"], 3)  # and Prefect saw three overlapping task runs
    assert sorted(r.name for r in runs) == sorted(f"audit-{s}" for s in slugs)
    assert max(r.start_time for r in runs) < min(r.end_time for r in runs)

    assert artifacts_of(rollup["run_id"]) == {"conductor-fleet-rollup": markdown}
    rows = open_audit_log(get_settings()).query(workflow_id="fleet", run_id=rollup["run_id"])
    assert [r.action for r in rows][::-1] == ["started", "succeeded", "succeeded", "succeeded",
                                              "finished"]  # fmt: skip
    assert rows[0].status == "completed"
    assert rows[0].metadata["totals"] == rollup["totals"]


def test_a_missing_repository_is_reported_while_the_others_finish(
    repos: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "fleet"
    missing = tmp_path / "nowhere" / "gone"
    request = FleetRequest(
        repos=[FleetRepo(codebase=str(repos["low"])), FleetRepo(codebase=str(missing))],
        max_concurrency=2,
        output_dir=str(out),
    )
    state = fleet_audit_flow(request, return_state=True)
    assert state.is_failed()
    with pytest.raises(FleetFailed, match=r"1 of 2 repositories could not be audited: gone"):
        state.result()

    rollup = json.loads((out / "fleet-rollup.json").read_text())
    assert rollup["failed"] == ["gone"]
    ok, bad = rollup["repos"]
    assert ok["status"] == "completed"
    assert ok["findings"] > 0
    assert (out / ok["reports"]["sarif"]).is_file()
    assert bad["status"] == "failed"
    assert bad["error"] == f"codebase {str(missing)!r} does not exist; pass --codebase PATH"
    assert bad["gate"] is None
    assert not (out / "gone").exists()
    assert "## Failed repositories" in (out / "fleet-rollup.md").read_text()
    rows = open_audit_log(get_settings()).query(workflow_id="fleet", task_id="gone")
    assert [(r.action, r.status) for r in rows] == [("failed", "failed")]


def test_the_gate_applies_across_the_fleet_and_max_concurrency_bounds_it(
    repos: dict[str, Path], tmp_path: Path
) -> None:
    out = tmp_path / "fleet"
    request = FleetRequest(
        repos=[FleetRepo(codebase=str(repos["low"])), FleetRepo(codebase=str(repos["high"]))],
        fail_on="high",
        max_concurrency=1,
        output_dir=str(out),
    )
    state = fleet_audit_flow(request, return_state=True)
    assert state.is_failed()
    with pytest.raises(QualityGateFailed, match=r"1 failing the gate \(fail_on high\): app") as err:
        state.result()
    assert err.value.exit_code == 1

    rollup = json.loads((out / "fleet-rollup.json").read_text())
    assert [r["gate"] for r in rollup["repos"]] == ["passed", "failed"]
    assert rollup["repos"][1]["gate_failing"] >= 2
    assert rollup["gate_failed"] == ["app"]
    assert rollup["failed"] == []
    spans = intervals(rollup)  # one at a time: each audit started after the previous ended
    assert all(prev_end <= start for (_, prev_end), (start, _) in itertools.pairwise(spans))


def test_git_url_credentials_never_reach_the_rollup(repos: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "fleet"
    request = FleetRequest(
        repos=[
            FleetRepo(codebase=f"file://user:{TOKEN}@{repos['low']}", branch="main"),
            FleetRepo(codebase=f"https://user:{TOKEN}@127.0.0.1:9/team/private.git"),
        ],
        output_dir=str(out),
    )
    state = fleet_audit_flow(request, return_state=True)
    with pytest.raises(FleetFailed, match="could not be audited: private") as err:
        state.result()
    assert TOKEN not in str(err.value)

    rollup = json.loads((out / "fleet-rollup.json").read_text())
    cloned, unreachable = rollup["repos"]
    assert cloned["codebase"] == f"file://{repos['low']}"
    assert cloned["codebase_id"] == f"file://{repos['low']}#main"
    assert cloned["status"] == "completed"
    assert cloned["findings"] > 0
    assert unreachable["codebase"] == "https://127.0.0.1:9/team/private.git"
    assert unreachable["error"].startswith("cannot clone 'https://127.0.0.1:9/team/private.git'")
    written = [p for p in out.rglob("*") if p.is_file()]
    assert len(written) == 5  # the roll-up (2) and one repository's reports (3)
    assert all(TOKEN not in p.read_text() for p in written)
    rows = open_audit_log(get_settings()).query(workflow_id="fleet", run_id=rollup["run_id"])
    assert len(rows) == 4
    assert all(TOKEN not in json.dumps(r.model_dump(mode="json")) for r in rows)


def test_slugs_are_unique_and_a_repeated_repository_is_refused(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a" / "app"), str(tmp_path / "b" / "app")
    url = f"https://user:{TOKEN}@git.example/org/app.git"
    slugs = assign_slugs([(a, None, None), (b, None, None), (url, "dev", None), (a, None, "x")])
    assert len(set(slugs)) == 4
    assert slugs[3] == "x"
    assert all(s.startswith("app-") and TOKEN not in s for s in slugs[:3])
    assert assign_slugs([(url, None, None)]) == ["app"]
    with pytest.raises(UsageError, match="listed twice"):
        assign_slugs([(a, None, None), (f"{tmp_path}/a/../a/app", None, None)])
    with pytest.raises(UsageError, match="unknown focus"):
        plan(FleetRequest(repos=[FleetRepo(codebase=a)], focus=["speed"]), tmp_path)


def test_runner_selection_threads_and_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    from prefect.task_runners import ThreadPoolTaskRunner

    repos = [FleetRepo(codebase=".")]
    threads = build_task_runner(FleetRequest(repos=repos, max_concurrency=3))
    assert isinstance(threads, ThreadPoolTaskRunner)
    assert threads._max_workers == 3

    if importlib.util.find_spec("prefect_dask") is None:
        _missing("prefect-dask is not installed (pip install 'ai-conductor[dask]')")
    from prefect_dask.task_runners import DaskTaskRunner

    local = build_task_runner(FleetRequest(repos=repos, max_concurrency=5, task_runner="dask"))
    assert isinstance(local, DaskTaskRunner)
    assert local.address is None
    assert local.cluster_kwargs == {
        "n_workers": 5, "threads_per_worker": 1, "dashboard_address": ":0"
    }  # fmt: skip
    assert local.cluster_class is local_cluster
    remote = build_task_runner(
        FleetRequest(repos=repos, task_runner="dask", dask_address="tcp://10.0.0.5:8786")
    )
    assert remote.address == "tcp://10.0.0.5:8786"
    assert remote.cluster_kwargs == {}

    monkeypatch.setitem(sys.modules, "prefect_dask.task_runners", None)  # as if not installed
    with pytest.raises(UsageError, match=r"pip install 'ai-conductor\[dask\]'"):
        build_task_runner(FleetRequest(repos=repos, task_runner="dask"))


@pytest.mark.slow
def test_local_dask_workers_may_start_the_analyzer_process_pool() -> None:
    """Dask's workers are daemonic by default: bandit/radon's process pool would fail in them."""
    if importlib.util.find_spec("distributed") is None:
        _missing("dask.distributed is not installed (pip install 'ai-conductor[dask]')")
    import multiprocessing

    import distributed

    kwargs = {"n_workers": 1, "threads_per_worker": 1, "dashboard_address": ":0"}
    with local_cluster(**kwargs) as cluster, distributed.Client(cluster) as client:
        daemonic = client.run(lambda: multiprocessing.current_process().daemon)
    assert list(daemonic.values()) == [False]
