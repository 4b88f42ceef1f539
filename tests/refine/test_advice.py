"""LLM advice on stack findings: through the official openai SDK, against the scripted wire server
(hosted APIs are unreachable here; see tests/implement/_wire.py) and against the real local model.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_conductor.errors import UsageError
from ai_conductor.refine import refine
from ai_conductor.refine.advice import ADVICE_SCHEMA, MAX_ADVICE
from tests.conftest import BIN, cli_env
from tests.implement._wire import WireServer, openai_ok
from tests.refine.conftest import make_repo

pytestmark = pytest.mark.usefixtures("conductor_home")

PYPROJECT = """[project]
name = "app"
version = "0.1"
requires-python = ">=3.11"
dependencies = ["psycopg2-binary>=2.9", "weaviate-client<4", "sqlalchemy>=2.0"]
"""
APP = "import psycopg2\nimport sqlalchemy\nimport weaviate\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    files = {"pyproject.toml": PYPROJECT, "app/__init__.py": APP,
             "deploy/db.yaml": "url: postgresql://u:hunter2secret@db/app\n"}  # fmt: skip
    return make_repo(tmp_path / "app", files)


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer().start()
    yield server
    server.stop()


def review(project: Path, backend: str, options: dict[str, object]) -> object:
    return refine(
        project, stack="python_postgres_weaviate", tidy_code=False, types=False,
        backend=backend, backend_options=options,
    ).stack  # fmt: skip


def test_a_model_adds_advice_to_the_findings_it_was_asked_about(
    project: Path, wire: WireServer
) -> None:
    plain = refine(project, stack="python_postgres_weaviate", tidy_code=False, types=False).stack
    assert plain is not None
    rules = [f.rule_id for f in plain.findings]
    assert "STACK-PG-PSYCOPG2-BINARY" in rules
    first = rules.index("STACK-PG-PSYCOPG2-BINARY") + 1
    reply = {"advice": [
        {"id": f"F{first}", "advice": "Switch to psycopg[binary]>=3.2 in\n  pyproject.toml."},
        {"id": "F99", "advice": "not a finding that was asked about"},
        {"id": "F1", "advice": 5},
    ]}  # fmt: skip
    wire.script = [openai_ok(json.dumps(reply), prompt=300, completion=40)]
    stack = refine(
        project, stack="python_postgres_weaviate", tidy_code=False, types=False,
        backend="openai", backend_options={"model": "m", "base_url": f"{wire.url}/v1",
                                           "price_input_per_mtok": 1.0},
    ).stack  # fmt: skip
    assert stack is not None
    assert stack.advice_backend == "openai"
    assert (stack.tokens, stack.cost_usd) == (340, 0.0003)
    advised = {f.rule_id: f.message for f in stack.findings if "Advice:" in f.message}
    assert advised == {
        "STACK-PG-PSYCOPG2-BINARY": next(
            f.message for f in plain.findings if f.rule_id == "STACK-PG-PSYCOPG2-BINARY"
        ).rstrip(".")
        + ". Advice: Switch to psycopg[binary]>=3.2 in pyproject.toml."
    }
    assert [f.rule_id for f in stack.findings] == rules  # advice never adds or drops findings
    (request,) = wire.requests
    body = request.body
    assert body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "answer", "schema": ADVICE_SCHEMA}
    }  # fmt: skip
    prompt = body["messages"][1]["content"]
    assert "Stack: python_postgres_weaviate" in prompt
    assert f"F{first}: [STACK-PG-PSYCOPG2-BINARY]" in prompt
    assert 'dependencies = ["psycopg2-binary>=2.9"' in prompt  # the project's pyproject.toml
    assert "hunter2secret" not in json.dumps(body)


def test_secrets_in_dependency_files_are_masked_before_a_model_sees_them(
    tmp_path: Path, wire: WireServer
) -> None:
    setup_cfg = ("[options]\ninstall_requires = psycopg2-binary\n[db]\n"
                 "url = postgresql://admin:S3cretPw@db/app\npassword = pl41n-secret\n")  # fmt: skip
    requirements = "--extra-index-url https://tok3n-abc@pypi.corp/simple\npsycopg2-binary\n"
    root = make_repo(tmp_path / "leaky", {"setup.cfg": setup_cfg, "requirements.txt": requirements,
                                          "app/__init__.py": APP})  # fmt: skip
    wire.script = [openai_ok('{"advice": []}')]
    review(root, "openai", {"model": "m", "base_url": f"{wire.url}/v1"})
    body = json.dumps(wire.requests[0].body)
    for secret in ("S3cretPw", "pl41n-secret", "tok3n-abc"):
        assert secret not in body
    assert "postgresql://admin:***@db/app" in body  # the shape stays, for the advice


def test_an_unusable_reply_is_a_warning_and_the_review_stands(
    project: Path, wire: WireServer
) -> None:
    wire.script = [openai_ok("Sure! Here are my thoughts: pin everything.")]
    report = refine(
        project, stack="python_postgres_weaviate", tidy_code=False, types=False,
        backend="openai", backend_options={"model": "m", "base_url": f"{wire.url}/v1"},
    )  # fmt: skip
    assert report.stack is not None
    assert report.stack.findings
    assert not any("Advice:" in f.message for f in report.stack.findings)
    assert any("no advice for the stack findings" in w for w in report.warnings)
    assert report.stack.tokens == 120  # what the unusable reply cost is still reported


def test_advice_needs_an_llm_backend(project: Path) -> None:
    with pytest.raises(UsageError, match="needs an LLM backend"):
        review(project, "builtin", {})


def test_cli_backend_without_stack_is_a_usage_error(project: Path, conductor_home: Path) -> None:
    run = subprocess.run(
        [str(BIN / "conductor"), "refine", "--codebase", str(project), "--backend", "openai",
         "--model", "m", "--base-url", "http://127.0.0.1:9/v1"],
        env=cli_env("http://127.0.0.1:9/api", conductor_home), capture_output=True, text=True,
    )  # fmt: skip
    assert run.returncode == 2
    assert "add --stack NAME" in run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.slow
def test_a_real_model_advises_and_whatever_it_says_stays_text(
    project: Path, local_llm: str
) -> None:
    options = {"model": "smollm2", "base_url": local_llm, "max_tokens": 300,
               "structured": "json_object_schema", "timeout": 120}  # fmt: skip
    report = refine(
        project, stack="python_postgres_weaviate", tidy_code=False, types=False,
        backend="openai", backend_options=options,
    )  # fmt: skip
    stack = report.stack
    assert stack is not None
    assert stack.tokens > 0, "no real completion was made"
    assert {"STACK-PG-PSYCOPG2-BINARY", "STACK-WEAVIATE-V3"} <= {f.rule_id for f in stack.findings}
    for f in stack.findings:
        _, _, advice = f.message.partition(" Advice: ")
        assert len(advice) <= MAX_ADVICE
        assert "\n" not in advice
