"""An LLM backend that times out, rate-limits (429 + Retry-After), fails (500) or answers
garbage: `conductor implement --backend openai` retries, its circuit breaker opens, its budget
holds, and the run ends with a clear degraded status (documented exit codes: 0 with the failed
changes listed, 3 when every change failed before verification)."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ai_conductor.analysis import analyze
from tests.conftest import BIN, cli_env
from tests.faults._llm import FaultyLLM
from tests.faults.conftest import f401_repo, git, record_figures

pytestmark = pytest.mark.slow
SEED = 8


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """(a repository with unused imports in 4 modules, its analysis.json)."""
    repo = f401_repo(tmp_path / "repo", modules=4)
    analysis = tmp_path / "analysis.json"
    analysis.write_text(analyze(repo, tools=["ruff"]).model_dump_json())
    return repo, analysis


@pytest.fixture
def servers() -> Iterator[list[FaultyLLM]]:
    started: list[FaultyLLM] = []
    yield started
    for server in started:
        server.stop()


def implement(prefect_api: str, home: Path, project: tuple[Path, Path], llm: FaultyLLM,
              *extra: str) -> tuple[int, dict[str, Any], str, float]:  # fmt: skip
    repo, analysis = project
    argv = [str(BIN / "conductor"), "implement", "--analysis", str(analysis), "--codebase",
            str(repo), "--backend", "openai", "--base-url", llm.url, "--model", "m",
            "--test-command", "", "--concurrency", "1", "--json",
            "--backend-option", "timeout=1", "--backend-option", "structured=json_object",
            *extra]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(argv, env=cli_env(prefect_api, home), capture_output=True, text=True,
                          timeout=240)  # fmt: skip
    took = time.monotonic() - started
    assert "Traceback" not in done.stderr, done.stderr[-3000:]
    assert git(repo, "status", "--porcelain") == ""  # the checkout is never touched
    return done.returncode, json.loads(done.stdout), done.stderr, took


def documented_exit(report: dict[str, Any]) -> int:
    """`conductor implement --help`/README: 3 when every change failed before verification
    (and no budget stopped the run), else 0 with the failures listed."""
    changes = report["changes"]
    every_error = bool(changes) and all(c["status"] == "error" for c in changes)
    return 3 if every_error and not report["stopped"] else 0


@pytest.mark.parametrize(("retries", "attempts"), [(4, 3), (0, 1)], ids=["resilient", "fragile"])
def test_flaky_backend_retries_and_finishes_with_a_clear_status(
    prefect_api: str, tmp_path: Path, project: tuple[Path, Path], servers: list[FaultyLLM],
    retries: int, attempts: int,
) -> None:  # fmt: skip
    llm = FaultyLLM(SEED)
    servers.append(llm)
    code, report, err, took = implement(
        prefect_api, tmp_path / "home", project, llm,
        "--backend-option", f"retries={retries}", "--backend-option", "breaker_threshold=50",
        "--attempts", str(attempts),
    )  # fmt: skip
    statuses = {c["group"]: c["status"] for c in report["changes"]}
    faults = llm.requests - llm.count("ok")
    assert faults > 0
    assert llm.count("ok") > 0
    assert len(statuses) == 4
    assert code == documented_exit(report), err
    kept = [g for g, s in statuses.items() if s == "kept"]
    failed = {c["group"]: c["attempts"][-1]["reason"] for c in report["changes"]
              if c["status"] != "kept"}  # fmt: skip
    if retries:  # every fault was retried away: more requests than changes, all kept
        assert llm.requests > len(statuses)
        assert len(kept) == 4, failed
    else:  # no retries: the faults show as failed changes, each with its reason
        assert failed
        assert llm.requests <= 4 * (1 + 1)  # one try per change, one re-ask for bad text
    for group, reason in failed.items():  # a degraded run says which change failed and why
        assert group in err
        assert any(w in reason for w in ("HTTP", "timed out", "unusable", "not usable")), reason
    assert f"{len(kept)} of 4 change(s) verified and kept" in err
    record_figures(f"llm_flaky[retries={retries}]", seed=SEED, requests=llm.requests,
                   faults=faults, by_fate={f: llm.count(f) for f in sorted(set(llm.fates))},
                   kept=len(kept), failed=len(failed), exit_code=code,
                   run_s=round(took, 1))  # fmt: skip


def test_breaker_opens_and_requests_stop(
    prefect_api: str, tmp_path: Path, project: tuple[Path, Path], servers: list[FaultyLLM]
) -> None:
    llm = FaultyLLM(SEED, fault_rate=1.0, kinds=("500",))  # the service is down
    servers.append(llm)
    code, report, err, took = implement(
        prefect_api, tmp_path / "home", project, llm,
        "--backend-option", "retries=10", "--backend-option", "breaker_threshold=3",
        "--backend-option", "breaker_cooldown=600", "--attempts", "3",
    )  # fmt: skip
    assert llm.requests == 3, llm.fates  # the threshold, then no request at all
    assert code == 3 == documented_exit(report), err
    reasons = [c["attempts"][-1]["reason"] for c in report["changes"]]
    assert all(c["status"] == "error" for c in report["changes"])
    assert "HTTP 500" in reasons[0] or "circuit open" in reasons[0]
    assert all("circuit open" in r for r in reasons[1:]), reasons
    assert "every change failed before it could be verified" in err
    record_figures("llm_breaker", requests=llm.requests, threshold=3, changes=4,
                   breaker_opens=1, exit_code=code, run_s=round(took, 1))  # fmt: skip


def test_budget_stops_the_run(
    prefect_api: str, tmp_path: Path, project: tuple[Path, Path], servers: list[FaultyLLM]
) -> None:
    llm = FaultyLLM(SEED, fault_rate=0.0)  # every reply costs 120 tokens
    servers.append(llm)
    code, report, err, _ = implement(
        prefect_api, tmp_path / "home", project, llm, "--max-tokens", "250"
    )
    assert report["stopped"]
    assert "token budget spent" in report["stopped"]
    assert 250 <= report["tokens"] <= 250 + 120  # no attempt starts once spent
    assert llm.requests == 3
    assert [c["status"] for c in report["changes"]] == ["kept", "kept", "kept", "error"]
    assert code == 0 == documented_exit(report)
    assert "stopped early" in err

    tokens_used = report["tokens"]
    slow = FaultyLLM(SEED, fault_rate=0.0, delay=0.8)
    servers.append(slow)
    code, report, err, took = implement(
        prefect_api, tmp_path / "home2", project, slow, "--max-seconds", "1",
        "--backend-option", "timeout=5",
    )  # fmt: skip
    assert report["stopped"]
    assert "time budget spent" in report["stopped"]
    assert slow.requests < 4
    assert code == 0 == documented_exit(report)
    record_figures("llm_budget", max_tokens=250, tokens_used=tokens_used, requests_tokens_run=3,
                   max_seconds=1, requests_time_run=slow.requests,
                   run_s=round(took, 1))  # fmt: skip
