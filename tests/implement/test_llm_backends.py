"""The openai and anthropic backends driven through their official SDKs against a scripted HTTP
server on loopback (see ``_wire.py`` for why that is the honest fake here), and end to end
through the implementer and its verification gate."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_conductor.analysis import analyze
from ai_conductor.analysis.models import Category, Finding, Severity
from ai_conductor.errors import AgentUnavailable, ConfigError, UsageError
from ai_conductor.implement import ImplementOptions, implement
from ai_conductor.implement.backends import load_backend
from ai_conductor.implement.backends.anthropic_backend import AnthropicBackend
from ai_conductor.implement.backends.chat import LLMCallFailed
from ai_conductor.implement.backends.llm import REPLY_SCHEMA, build_messages, parse_reply
from ai_conductor.implement.backends.openai_backend import OpenAIBackend, grammar_schema
from ai_conductor.implement.edits import EDITS_JSON_SCHEMA, EditRejected
from ai_conductor.implement.models import ChangeRequest, Edit
from ai_conductor.implement.resilience import CircuitBreaker, CircuitOpen, call_with_retries
from ai_conductor.settings import reload_settings
from tests.implement._wire import WireServer, anthropic_ok, error, openai_ok
from tests.implement.test_implement import CORE, attempts, calc_repo, status

pytestmark = pytest.mark.usefixtures("conductor_home", "no_keys")
GIT = ["git", "-c", "user.name=t", "-c", "user.email=t@e", "-c", "commit.gpgsign=false"]
FIX = {"path": "calc/core.py", "search": "return eval(text)", "replace": "return int(text)"}
GOOD = json.dumps({"edits": [FIX]})


@pytest.fixture
def no_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"CONDUCTOR_{name}", raising=False)
    reload_settings()
    yield
    reload_settings()


@pytest.fixture
def wire() -> Iterator[WireServer]:
    server = WireServer().start()
    yield server
    server.stop()


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    (tmp_path / "ws" / "calc").mkdir(parents=True)
    (tmp_path / "ws" / "calc" / "core.py").write_text(CORE)
    return tmp_path / "ws"


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return calc_repo(tmp_path / "calc-repo")


REQUEST = ChangeRequest(
    group="file:calc/core.py",
    findings=[Finding(
        tool="ruff", rule_id="S307", severity=Severity.MEDIUM, category=Category.SECURITY,
        path="calc/core.py", line=5, end_line=5, message="Use of possibly insecure eval",
    )],
)  # fmt: skip


def openai(wire: WireServer, **options: object) -> OpenAIBackend:
    return OpenAIBackend({"model": "m", "base_url": f"{wire.url}/v1", **options})


def anthropic(wire: WireServer, **options: object) -> AnthropicBackend:
    return AnthropicBackend({"model": "claude", "base_url": wire.url, **options})


def user_text(body: dict[str, object]) -> str:
    messages = body["messages"]
    assert isinstance(messages, list)
    return "\n".join(str(m["content"]) for m in messages if m["role"] == "user")


# --- openai -----------------------------------------------------------------------------------


def test_good_reply_gives_edits_tokens_and_cost(wire: WireServer, workspace: Path) -> None:
    wire.script = [openai_ok(GOOD, prompt=1000, completion=200)]
    backend = openai(wire, price_input_per_mtok=3.0, price_output_per_mtok=15.0)
    proposal = backend.propose(REQUEST, workspace, None)
    assert proposal.edits == [Edit(**FIX)]
    assert proposal.tokens == 1200
    assert proposal.cost_usd == pytest.approx((1000 * 3.0 + 200 * 15.0) / 1e6)
    assert (workspace / "calc" / "core.py").read_text() == CORE  # the backend never writes
    (sent,) = wire.requests
    assert sent.path == "/v1/chat/completions"
    assert sent.headers["authorization"] == "Bearer not-needed"  # local server: placeholder


def test_request_carries_schema_model_limits_file_and_findings(
    wire: WireServer, workspace: Path
) -> None:
    wire.script = [openai_ok(GOOD)]
    openai(wire, max_tokens=321).propose(REQUEST, workspace, "tests failed: test_parse")
    body = wire.requests[0].body
    assert body["model"] == "m"
    assert body["max_tokens"] == 321
    assert body["temperature"] == 0.0
    assert body["response_format"] == {
        "type": "json_schema", "json_schema": {"name": "edits", "schema": EDITS_JSON_SCHEMA}
    }  # fmt: skip
    assert REPLY_SCHEMA is EDITS_JSON_SCHEMA
    system = body["messages"][0]
    assert system["role"] == "system"
    assert "ONLY" in system["content"]
    text = user_text(body)
    assert CORE in text  # the current file, verbatim between delimiters
    assert "===== BEGIN FILE calc/core.py =====" in text
    assert "S307 calc/core.py:5: Use of possibly insecure eval" in text
    assert "tests failed: test_parse" in text  # the previous attempt's feedback


def test_large_files_are_shown_as_windows_around_the_findings(tmp_path: Path) -> None:
    big = "".join(f"value_{i} = {i}  # padding padding padding padding\n" for i in range(2000))
    (tmp_path / "big.py").write_text(big)
    findings = [
        REQUEST.findings[0].model_copy(update={"path": "big.py", "line": n, "end_line": n})
        for n in (1000, 1010, 1900)
    ]
    request = ChangeRequest(group="file:big.py", findings=findings)
    _, user = build_messages(request, tmp_path, None)
    assert "(excerpt: lines 970-1040 of 2000)" in user  # two nearby findings: one window
    assert "(excerpt: lines 1870-1930 of 2000)" in user
    assert "value_1009 = 1009" in user
    assert "value_500 = 500" not in user
    assert len(user) < 12_000


def test_json_object_modes(wire: WireServer, workspace: Path) -> None:
    wire.script = [openai_ok(GOOD), openai_ok(GOOD), openai_ok(GOOD)]
    openai(wire, structured="json_object").propose(REQUEST, workspace, None)
    openai(wire, structured="json_object_schema").propose(REQUEST, workspace, None)
    openai(wire, structured="none").propose(REQUEST, workspace, None)
    formats = [r.body.get("response_format") for r in wire.requests]
    assert formats == [{"type": "json_object"}, {"type": "json_object", "schema": grammar_schema()},
                       None]  # fmt: skip
    lengths = [p["maxLength"] for p in grammar_schema()["properties"]["edits"]["items"]
               ["properties"].values()]  # fmt: skip
    assert max(lengths) <= 2000


def test_malformed_then_good_reasks_in_the_same_attempt(wire: WireServer, workspace: Path) -> None:
    wire.script = [openai_ok("sure! here is the fix"), openai_ok(f"```json\n{GOOD}\n```")]
    proposal = openai(wire).propose(REQUEST, workspace, None)
    assert proposal.edits == [Edit(**FIX)]
    assert proposal.tokens == 240
    assert len(wire.requests) == 2
    second = wire.requests[1].body["messages"]
    assert second[-2] == {"role": "assistant", "content": "sure! here is the fix"}
    assert "cannot be used" in second[-1]["content"]


def test_malformed_twice_is_rejected_and_carries_the_tokens(
    wire: WireServer, workspace: Path
) -> None:
    wire.script = [openai_ok("{not json"), openai_ok('{"edits": [{"path": "x"}]}', prompt=50)]
    with pytest.raises(EditRejected, match="exactly path, search, replace") as info:
        openai(wire, price_input_per_mtok=1.0).propose(REQUEST, workspace, None)
    assert info.value.retryable
    assert getattr(info.value, "tokens", None) == 120 + 70
    assert getattr(info.value, "cost_usd", None) == pytest.approx(150 / 1e6)
    assert len(wire.requests) == 2


def test_a_reply_cut_off_at_max_tokens_counts_as_malformed(
    wire: WireServer, workspace: Path
) -> None:
    wire.script = [openai_ok('{"edits": [{"path": "calc', finish="length"), openai_ok(GOOD)]
    proposal = openai(wire, max_tokens=16).propose(REQUEST, workspace, None)
    assert proposal.edits == [Edit(**FIX)]
    assert "max_tokens=16" in wire.requests[1].body["messages"][-1]["content"]


def test_rate_limit_is_retried_after_retry_after(wire: WireServer, workspace: Path) -> None:
    wire.script = [error(429, "slow down", {"retry-after": "0"}), openai_ok(GOOD)]
    backend = openai(wire)
    assert backend.propose(REQUEST, workspace, None).edits == [Edit(**FIX)]
    assert len(wire.requests) == 2
    assert backend.requests == 2


def test_server_errors_exhaust_retries_then_the_breaker_fails_fast(
    wire: WireServer, workspace: Path
) -> None:
    wire.default = error(500, "boom", {"retry-after": "0"})
    breaker = {"breaker_threshold": 3, "breaker_cooldown": 600}
    backend = openai(wire, retries=2, **breaker)
    with pytest.raises(LLMCallFailed, match="HTTP 500 after 3 request") as info:
        backend.propose(REQUEST, workspace, None)
    assert info.value.retryable
    assert "boom" in str(info.value)
    assert len(wire.requests) == 3
    with pytest.raises(CircuitOpen) as opened:
        openai(wire, **breaker).propose(REQUEST, workspace, None)  # same url + model: same breaker
    assert len(wire.requests) == 3  # failed fast, the server was not called
    assert not opened.value.retryable
    message = str(opened.value)
    assert f"openai:{wire.url}/v1:m" in message
    assert "3 consecutive failures" in message
    assert "for another 600s" in message or "for another 599s" in message


def test_client_errors_are_not_retried(wire: WireServer, workspace: Path) -> None:
    wire.script = [error(400, "max_tokens is too large")]
    with pytest.raises(LLMCallFailed, match="HTTP 400 after 1 request") as info:
        openai(wire).propose(REQUEST, workspace, None)
    assert not info.value.retryable
    assert "max_tokens is too large" in str(info.value)
    assert len(wire.requests) == 1


def test_a_server_refusing_json_schema_is_not_retried_and_says_what_to_set(
    wire: WireServer, workspace: Path
) -> None:
    # what llama-cpp-python 0.3.36 answers to response_format json_schema (verbatim shape)
    refusal = "1 validation error: ('body', 'response_format', 'type') Input should be 'text'"
    wire.script = [error(500, refusal)]
    with pytest.raises(LLMCallFailed, match="structured to json_object_schema") as info:
        openai(wire).propose(REQUEST, workspace, None)
    assert not info.value.retryable
    assert len(wire.requests) == 1


def test_the_key_comes_from_settings_and_never_appears_in_errors(
    wire: WireServer, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-0123456789")
    reload_settings()
    wire.script = [error(401, "Incorrect API key provided: sk-test-0123456789")]
    with pytest.raises(LLMCallFailed) as info:
        openai(wire).propose(REQUEST, workspace, None)
    assert wire.requests[0].headers["authorization"] == "Bearer sk-test-0123456789"
    assert "sk-test-0123456789" not in str(info.value)
    assert "check the API key" in str(info.value)
    assert not info.value.retryable


@pytest.mark.usefixtures("prefect_api")
def test_api_key_block_reads_a_prefect_secret(wire: WireServer, workspace: Path) -> None:
    from prefect.blocks.system import Secret

    Secret(value="sk-from-block-42").save("llm-key", overwrite=True)
    wire.script = [openai_ok(GOOD)]
    openai(wire, api_key_block="llm-key").propose(REQUEST, workspace, None)
    assert wire.requests[0].headers["authorization"] == "Bearer sk-from-block-42"
    with pytest.raises(ConfigError, match="'no-such-block'"):
        openai(wire, api_key_block="no-such-block")


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"model": "m", "bogus": 1}, r"openai backend: unknown option\(s\) 'bogus'.*known.*model"),
        ({"base_url": "http://x"}, "option 'model' is required"),
        ({"model": "m", "retries": -1}, "retries"),
        ({"model": "m", "structured": "xml"}, "structured"),
    ],
)
def test_bad_options_are_usage_errors(options: dict[str, object], expected: str) -> None:
    with pytest.raises(UsageError, match=expected):
        load_backend("openai", options)


def test_no_key_and_no_base_url_is_unavailable() -> None:
    with pytest.raises(AgentUnavailable, match="OPENAI_API_KEY"):
        OpenAIBackend({"model": "gpt-x"})
    with pytest.raises(AgentUnavailable, match="ANTHROPIC_API_KEY"):
        AnthropicBackend({"model": "claude-x"})


@pytest.mark.parametrize(("backend", "module"), [("openai", "openai"), ("anthropic", "anthropic")])
def test_a_missing_sdk_says_how_to_install_it(
    backend: str, module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # import fails as if not installed
    with pytest.raises(AgentUnavailable, match=r"pip install 'ai-conductor\[llm\]'"):
        load_backend(backend, {"model": "m", "base_url": "http://127.0.0.1:9"})


def test_parse_reply_treats_the_reply_as_untrusted() -> None:
    assert parse_reply(f"Here you go:\n```json\n{GOOD}\n```\nGood luck!") == [Edit(**FIX)]
    assert parse_reply(f"Use {{x}} like this: {GOOD} done") == [Edit(**FIX)]
    for bad in ("", "no json at all", '{"edits": "x"}', '{"other": []}', "[1, 2]"):
        with pytest.raises(EditRejected):
            parse_reply(bad)


# --- anthropic --------------------------------------------------------------------------------


def test_anthropic_prefills_and_parses_text_blocks(wire: WireServer, workspace: Path) -> None:
    wire.script = [anthropic_ok(GOOD[1:], prompt=300, completion=40)]
    proposal = anthropic(wire, price_output_per_mtok=10.0).propose(REQUEST, workspace, None)
    assert proposal.edits == [Edit(**FIX)]
    assert proposal.tokens == 340
    assert proposal.cost_usd == pytest.approx(40 * 10.0 / 1e6)
    (sent,) = wire.requests
    assert sent.path == "/v1/messages"
    assert sent.headers["authorization"] == "Bearer not-needed"  # how SDK 2.x sends the key
    assert sent.body["model"] == "claude"
    assert sent.body["max_tokens"] == 2048
    assert "ONLY" in sent.body["system"]
    assert "temperature" not in sent.body  # sent only when asked for
    assert sent.body["messages"][-1] == {"role": "assistant", "content": "{"}
    assert CORE in user_text(sent.body)


def test_anthropic_without_prefill_and_with_temperature(wire: WireServer, workspace: Path) -> None:
    wire.script = [anthropic_ok(f"```json\n{GOOD}\n```")]
    anthropic(wire, prefill=False, temperature=0.2).propose(REQUEST, workspace, None)
    body = wire.requests[0].body
    assert body["messages"][-1]["role"] == "user"
    assert body["temperature"] == 0.2


def test_anthropic_overloaded_is_retried_and_bad_requests_are_not(
    wire: WireServer, workspace: Path
) -> None:
    wire.script = [error(529, "Overloaded", {"retry-after": "0"}), anthropic_ok(GOOD[1:])]
    assert anthropic(wire).propose(REQUEST, workspace, None).edits == [Edit(**FIX)]
    assert len(wire.requests) == 2
    wire.script = [error(400, "prefill not supported")]
    with pytest.raises(LLMCallFailed, match=r"HTTP 400 after 1 request.*prefill not supported"):
        anthropic(wire).propose(REQUEST, workspace, None)
    assert len(wire.requests) == 3


def test_anthropic_stop_at_max_tokens_reasks_then_gives_up(
    wire: WireServer, workspace: Path
) -> None:
    wire.script = [anthropic_ok('"edits": [', stop="max_tokens")] * 2
    with pytest.raises(EditRejected, match="cut off") as info:
        anthropic(wire).propose(REQUEST, workspace, None)
    assert getattr(info.value, "tokens", None) == 240
    assert wire.requests[1].body["messages"][-3:-1] == [
        {"role": "assistant", "content": '{"edits": ['},
        {"role": "user", "content": wire.requests[1].body["messages"][-2]["content"]},
    ]


# --- resilience -------------------------------------------------------------------------------


class Flaky(Exception):
    pass


def test_call_with_retries_backs_off_exponentially_with_jitter() -> None:
    sleeps: list[float] = []
    calls = iter([Flaky(), Flaky(), Flaky(), "ok"])

    def fn() -> str:
        value = next(calls)
        if isinstance(value, Exception):
            raise value
        return value

    result = call_with_retries(fn, retries=3, is_transient=lambda e: isinstance(e, Flaky),
                               base_delay=1.0, max_delay=3.0, sleep=sleeps.append)  # fmt: skip
    assert result == "ok"
    assert len(sleeps) == 3
    for got, full in zip(sleeps, [1.0, 2.0, 3.0], strict=True):
        assert full / 2 <= got <= full
    with pytest.raises(ValueError, match="no"):
        call_with_retries(lambda: int("no"), retries=5, is_transient=lambda e: False,
                          sleep=sleeps.append)  # fmt: skip
    assert len(sleeps) == 3


def test_breaker_half_open_lets_one_probe_through() -> None:
    now = [0.0]
    breaker = CircuitBreaker("svc", threshold=2, cooldown=10, clock=lambda: now[0])
    breaker.record_failure()
    breaker.before_call()  # one failure: still closed
    breaker.record_failure()
    with pytest.raises(CircuitOpen, match="svc: circuit open after 2 consecutive failures"):
        breaker.before_call()
    now[0] = 11.0
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpen, match="probe"):
        breaker.before_call()  # everyone else waits for it
    breaker.record_failure()  # the probe failed: open again for a full cool-down
    now[0] = 15.0
    with pytest.raises(CircuitOpen, match="for another 6s"):
        breaker.before_call()
    now[0] = 30.0
    breaker.before_call()
    breaker.record_success()
    breaker.before_call()
    breaker.before_call()  # closed


def test_an_interrupted_probe_does_not_leave_the_breaker_stuck() -> None:
    now = [0.0]
    breaker = CircuitBreaker("svc", threshold=1, cooldown=1, clock=lambda: now[0])
    breaker.record_failure()
    now[0] = 2.0

    def interrupted() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        breaker.call(interrupted, lambda exc: True)  # the probe is cancelled mid-call
    assert breaker.call(lambda: "ok", lambda exc: True) == "ok"  # the next caller may probe


@pytest.mark.parametrize(
    "body",
    [
        {
            "choices": [{"index": 0, "finish_reason": "stop", "message": None}],
            "usage": {"prompt_tokens": None, "completion_tokens": None},
        },
        {"choices": None, "usage": None},
        [1, 2, 3],
    ],
    ids=["null-message-and-usage", "null-choices", "array-body"],
)
def test_odd_server_replies_are_agent_errors_not_crashes(
    body: object, wire: WireServer, workspace: Path
) -> None:
    from tests.implement._wire import Reply

    wire.script = [Reply(200, body)] * 3  # type: ignore[arg-type]
    with pytest.raises((EditRejected, LLMCallFailed)):  # both are AgentErrors: recorded, retried
        openai(wire, malformed_retries=1).propose(REQUEST, workspace, None)


def test_credentials_in_base_url_never_reach_messages(wire: WireServer, workspace: Path) -> None:
    wire.script = [error(400, "bad request")]
    url = wire.url.replace("http://", "http://user:sk-url-secret-123@") + "/v1"
    backend = OpenAIBackend({"model": "m", "base_url": url})
    with pytest.raises(LLMCallFailed) as caught:
        backend.propose(REQUEST, workspace, None)
    assert "sk-url-secret-123" not in str(caught.value)
    assert "sk-url-secret-123" not in backend.breaker.key


def test_breaker_is_thread_safe() -> None:
    breaker = CircuitBreaker("svc", threshold=1000, cooldown=1)
    threads = [threading.Thread(target=lambda: [breaker.record_failure() for _ in range(200)])
               for _ in range(4)]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert breaker.failures == 800


# --- end to end through the implementer ---------------------------------------------------------


def test_an_escaping_edit_from_the_model_is_refused_end_to_end(
    wire: WireServer, repo: Path, tmp_path: Path
) -> None:
    escape = {"path": "../outside.py", "search": "", "replace": "print('pwned')\n"}
    wire.default = openai_ok(json.dumps({"edits": [escape]}))
    options = ImplementOptions(
        backend="openai", backend_options={"model": "m", "base_url": f"{wire.url}/v1"},
        focus=["security"], attempts=2,
    )  # fmt: skip
    report = implement(analyze(repo), repo, options)
    (change,) = report.changes
    assert change.status.value == "error"
    assert [a.status.value for a in change.attempts] == ["error", "error"]
    assert "'..' is refused" in change.attempts[0].reason
    assert "'..' is refused" in user_text(wire.requests[1].body)  # fed back to the model
    assert not list(tmp_path.rglob("outside.py"))
    assert [s for s, _ in attempts(report.run_id)] == ["error", "error"]
    assert report.tokens == 2 * 120
    assert status(repo) == ""


def test_a_correct_fix_from_the_model_is_kept_by_the_gate(wire: WireServer, repo: Path) -> None:
    wire.script = [openai_ok(GOOD, prompt=500, completion=50)]
    options = ImplementOptions(
        backend="openai", focus=["security"],
        backend_options={"model": "m", "base_url": f"{wire.url}/v1", "price_input_per_mtok": 2.0},
    )  # fmt: skip
    report = implement(analyze(repo), repo, options)
    (change,) = report.changes
    assert change.status.value == "kept", change.attempts[-1].reason
    assert change.attempts[0].verification is not None
    assert change.attempts[0].verification.tests is not None
    assert change.attempts[0].verification.tests.passed
    assert "+    return int(text)" in Path(change.patch or "").read_text()
    assert report.tokens == 550
    assert report.cost_usd == pytest.approx(500 * 2.0 / 1e6)
    assert len(wire.requests) == 1
    assert status(repo) == ""


def test_past_changes_from_the_context_store_reach_the_prompt(wire: WireServer, repo: Path) -> None:
    from ai_conductor.context import ContextRecord, open_context_store
    from ai_conductor.settings import get_settings

    store = open_context_store(get_settings(), embedder=None)
    store.batch_store([
        ContextRecord(workflow_id="old", task_id="fix", context_type="change_rejected",
                      content="implementer change file:app.py rejected (discarded). Findings: "
                      "S307 eval. Reason: tests failed: int() broke parse of floats"),
        ContextRecord(workflow_id="old", task_id="fix", context_type="change_kept",
                      content="implementer change file:lib.py kept. Findings: S307 eval replaced "
                      "by ast.literal_eval"),
        ContextRecord(workflow_id="old", task_id="fix", context_type="change_kept",
                      content="implementer change file:x.py kept. Findings: F401 unused import"),
    ])  # fmt: skip
    store.close()
    wire.script = [openai_ok(json.dumps({"edits": [FIX]}))]
    options = ImplementOptions(
        backend="openai", backend_options={"model": "m", "base_url": f"{wire.url}/v1"},
        focus=["security"], attempts=1,
    )  # fmt: skip
    implement(analyze(repo), repo, options)
    prompt = user_text(wire.requests[0].body)
    assert "Past changes for these rules" in prompt
    assert "rejected: implementer change file:app.py" in prompt
    assert "int() broke parse of floats" in prompt
    assert "kept: implementer change file:lib.py" in prompt
    assert "F401 unused import" not in prompt  # another rule's history stays out
