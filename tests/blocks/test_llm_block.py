"""The openai and anthropic backends configured from an ``LLMBackendConfig`` block: saved to the
real Prefect API, named by the ``llm_block`` option (spec, CLI) or ``CONDUCTOR_LLM_BLOCK``, and
proven at the wire: the official SDKs send the block's model, knobs and key to a loopback server
(``tests/implement/_wire.py``); one request goes to a real llama.cpp model."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ai_conductor.analysis.models import AnalysisReport
from ai_conductor.blocks import LLMBackendConfig
from ai_conductor.errors import ConfigError, UsageError
from ai_conductor.implement.backends import load_backend
from ai_conductor.implement.backends.anthropic_backend import AnthropicBackend
from ai_conductor.implement.backends.openai_backend import OpenAIBackend
from ai_conductor.settings import reload_settings
from tests.conftest import BIN, cli_env
from tests.implement._wire import WireServer, anthropic_ok, openai_ok

pytestmark = pytest.mark.usefixtures("prefect_api", "clean_llm_env")
SCHEMA = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}


@pytest.fixture
def clean_llm_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "LLM_BLOCK"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"CONDUCTOR_{name}", raising=False)
    reload_settings()
    yield
    monkeypatch.undo()
    reload_settings()


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer().start()
    yield server
    server.stop()


def save_openai_block(wire: WireServer, name: str = "conductor-test-openai") -> str:
    LLMBackendConfig(
        provider="openai", model="block-model", base_url=f"{wire.url}/v1",
        api_key="sk-block-0042", max_tokens=77, temperature=0.5, retries=0,
        structured="json_object", price_input_per_mtok=1.0, prefill=False,
    ).save(name, overwrite=True)  # fmt: skip
    return name


def test_openai_backend_takes_model_endpoint_key_and_knobs_from_the_block(
    wire: WireServer,
) -> None:
    name = save_openai_block(wire)
    backend = load_backend("openai", {"llm_block": name})  # what specs and the CLI hand over
    assert isinstance(backend, OpenAIBackend)
    options = backend.options
    assert (options.model, options.base_url) == ("block-model", f"{wire.url}/v1")
    assert (options.max_tokens, options.temperature, options.retries) == (77, 0.5, 0)
    assert (backend.structured, options.price_input_per_mtok) == ("json_object", 1.0)
    assert "sk-block-0042" not in repr(options) + options.model_dump_json()

    wire.script = [openai_ok('{"ok": true}', prompt=1000, completion=10)]
    payload, tokens, cost = backend.ask_json("system", "user", SCHEMA)
    assert (payload, tokens, cost) == ({"ok": True}, 1010, pytest.approx(0.001))
    (sent,) = wire.requests
    assert sent.headers["authorization"] == "Bearer sk-block-0042"
    assert (sent.body["model"], sent.body["max_tokens"]) == ("block-model", 77)
    assert sent.body["temperature"] == 0.5
    assert sent.body["response_format"] == {"type": "json_object"}


def test_explicit_options_override_the_block(wire: WireServer) -> None:
    from prefect.blocks.system import Secret

    name = save_openai_block(wire)
    Secret(value="sk-explicit-secret-7").save("conductor-test-llm-key", overwrite=True)
    backend = OpenAIBackend({"llm_block": name, "model": "explicit", "max_tokens": 5,
                             "api_key_block": "conductor-test-llm-key"})  # fmt: skip
    assert (backend.options.model, backend.options.max_tokens) == ("explicit", 5)
    assert backend.options.temperature == 0.5  # not given explicitly: the block's
    wire.script = [openai_ok('{"ok": false}')]
    backend.ask_json("system", "user", SCHEMA)
    assert wire.requests[0].headers["authorization"] == "Bearer sk-explicit-secret-7"
    assert wire.requests[0].body["model"] == "explicit"


def test_anthropic_block_drives_the_anthropic_backend(wire: WireServer) -> None:
    LLMBackendConfig(provider="anthropic", model="claude-block", base_url=wire.url,
                     api_key="sk-ant-block-9", prefill=False, structured="none",
                     temperature=0.3).save("conductor-test-anthropic", overwrite=True)  # fmt: skip
    backend = AnthropicBackend({"llm_block": "conductor-test-anthropic"})
    assert backend.prefill is False
    wire.script = [anthropic_ok('{"ok": true}')]
    assert backend.ask_json("system", "user", SCHEMA)[0] == {"ok": True}
    (sent,) = wire.requests
    assert sent.headers["authorization"] == "Bearer sk-ant-block-9"  # how SDK 2.x sends it
    assert (sent.body["model"], sent.body["temperature"]) == ("claude-block", 0.3)
    assert sent.body["messages"][-1]["role"] == "user"  # the block turned prefill off


def test_a_block_for_the_other_provider_is_refused(wire: WireServer) -> None:
    name = save_openai_block(wire)
    with pytest.raises(UsageError) as caught:
        AnthropicBackend({"llm_block": name})
    text = str(caught.value)
    assert "anthropic backend: llm_block 'conductor-test-openai'" in text
    assert "provider 'openai'; use backend 'openai'" in text
    assert "sk-block-0042" not in text
    assert wire.requests == []


def test_the_setting_is_the_default_for_its_own_provider(
    wire: WireServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = save_openai_block(wire)
    monkeypatch.setenv("CONDUCTOR_LLM_BLOCK", name)
    reload_settings()
    assert OpenAIBackend().options.model == "block-model"
    assert OpenAIBackend({"model": "mine"}).options.base_url == f"{wire.url}/v1"
    with pytest.raises(UsageError, match=r"model' is required.*is for openai\)"):
        AnthropicBackend()  # a default for openai is not forced onto anthropic
    assert AnthropicBackend({"model": "c", "base_url": wire.url}).options.model == "c"
    with pytest.raises(UsageError, match="option 'model' is required"):
        OpenAIBackend({"llm_block": ""})  # turned off for this backend


def test_a_missing_block_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as caught:
        OpenAIBackend({"llm_block": "no-such-llm"})
    text = str(caught.value)
    assert "LLMBackendConfig block 'no-such-llm' (backend option llm_block)" in text
    assert "LLMBackendConfig(...).save('no-such-llm')" in text
    with pytest.raises(UsageError, match="llm_block must be a block name"):
        OpenAIBackend({"llm_block": 42})


@pytest.mark.slow
def test_cli_passes_llm_block_through_and_exits_2_without_the_block(
    wire: WireServer, prefect_api: str, codebase: Path, tmp_path: Path
) -> None:
    name = save_openai_block(wire)
    now = datetime.now(UTC)
    report = AnalysisReport(run_id="r1", codebase=str(codebase), codebase_id="c",
                            started_at=now, finished_at=now)  # fmt: skip
    analysis = tmp_path / "analysis.json"
    analysis.write_text(report.model_dump_json())
    env = cli_env(prefect_api, tmp_path / "home")

    def implement(block: str) -> subprocess.CompletedProcess[str]:
        argv = [str(BIN / "conductor"), "implement", "--analysis", str(analysis), "--codebase",
                str(codebase), "--backend", "openai", "--backend-option", f"llm_block={block}",
                "--json"]  # fmt: skip
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)

    done = implement(name)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["backend"] == "openai"
    missing = implement("no-such-llm")
    assert missing.returncode == 2, missing.stderr
    assert "LLMBackendConfig block 'no-such-llm'" in " ".join(missing.stderr.split())


@pytest.mark.slow
def test_a_block_pointing_at_a_real_local_model(local_llm: str) -> None:
    LLMBackendConfig(
        model="smollm2",
        base_url=local_llm,
        max_tokens=60,
        timeout=120,
        structured="json_object_schema",
    ).save("conductor-test-local", overwrite=True)
    backend = load_backend("openai", {"llm_block": "conductor-test-local"})
    assert isinstance(backend, OpenAIBackend)
    payload, tokens, _ = backend.ask_json(
        "Answer with a JSON object.",
        'Is 2 larger than 1? Answer {"ok": true} or {"ok": false}.',
        SCHEMA,
    )
    assert tokens > 0, "no real completion was made"
    assert isinstance(payload.get("ok"), bool)  # the grammar holds the model to the schema
