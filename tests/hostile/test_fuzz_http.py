"""Property-based hostile input for the HTTP API: its request models only raise pydantic's
ValidationError (or UsageError), and random bodies POSTed to the real ASGI app get 2xx or a 4xx
``{"error", "detail"}`` JSON, never a 500 and never traceback text.

Each test counts the examples hypothesis actually ran and prints ``FUZZ <target>: N examples``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from tests.hostile._strategies import (
    FAST,
    IDS,
    TRIED,
    echo,
    json_values,
    nasty_text,
    report,
    spec_dicts,
    usage_error,
)

# ---- HTTP request models ---------------------------------------------------------------------


def _models() -> list[type[BaseModel]]:
    from ai_conductor.server import http_models, params

    return [
        http_models.SecureTaskRequest,
        http_models.RunRequest,
        http_models.ValidateRequest,
        params.AnalyzeParams,
        params.WorkflowParams,
        params.ImplementParams,
    ]


def _model_fields(model: type[BaseModel]) -> st.SearchStrategy[Any]:
    from tests.hostile._strategies import fields, scalars

    hints = {
        name: st.one_of(scalars, st.sampled_from(["analyze", "workflow", "implement", "/etc"]))
        for name in model.model_fields
    }
    return st.one_of(fields(hints), json_values())


@pytest.mark.parametrize("index", range(6))
def test_http_request_models(index: int, capsys: pytest.CaptureFixture[str]) -> None:
    from ai_conductor.server.params import parse_params

    model = _models()[index]
    target = f"http_model.{model.__name__}"

    @settings(FAST, max_examples=400)
    @given(_model_fields(model), st.sampled_from(["analyze", "workflow", "implement", "nope"]))
    def check(data: Any, kind: str) -> None:
        TRIED[target] += 1
        with contextlib.suppress(ValidationError):  # anything else fails the test
            model.model_validate(data)
        with contextlib.suppress(ValidationError):
            model.model_validate_json(json.dumps(data))
        if isinstance(data, dict):
            error = usage_error(lambda: parse_params(kind, data))
            expected = (f"invalid {kind} parameters", "unknown run kind")
            assert error is None or str(error).startswith(expected), error

    check()
    echo(capsys, report(target, 320))


# ---- the real ASGI app -----------------------------------------------------------------------


@pytest.fixture
def api(conductor_home: Path, tmp_path: Path) -> Iterator[Any]:
    from fastapi.testclient import TestClient

    from ai_conductor.server.http_api import create_app
    from ai_conductor.server.runs import RunManager
    from ai_conductor.settings import Settings

    class AcceptOnly(RunManager):
        """Validates and records like the real manager; never runs the accepted work."""

        def _execute(self, entry: Any, work: Any) -> None:
            return None

    root = tmp_path / "roots"
    (root / "sample").mkdir(parents=True)
    (root / "sample" / "app.py").write_text("x = 1\n")
    settings_ = Settings(home=conductor_home, api_token="fuzz-token-0123456789",
                         allowed_roots=[root])  # fmt: skip
    manager = AcceptOnly(settings_, use_deployments=False)
    headers = {"Authorization": "Bearer fuzz-token-0123456789"}
    try:
        with TestClient(create_app(settings_, manager=manager), headers=headers,
                        raise_server_exceptions=False) as client:  # fmt: skip
            yield client
    finally:
        manager.shutdown(timeout=5)


def _body_strategy(path: str) -> st.SearchStrategy[bytes]:
    from ai_conductor.server import http_models

    model = {
        "/tasks": http_models.SecureTaskRequest,
        "/runs": http_models.RunRequest,
        "/workflows/validate": http_models.ValidateRequest,
    }[path]
    structured: st.SearchStrategy[Any] = _model_fields(model)
    if path == "/workflows/validate":
        from tests.hostile._strategies import spec_texts

        structured = st.one_of(
            structured,
            spec_dicts.map(lambda d: {"spec": d}),
            spec_texts.map(lambda t: {"spec": t}),
        )
    codebases = st.one_of(
        st.sampled_from(["sample", ".", "sample/app.py", "/etc", "../..", "sample/../../..", "~"]),
        nasty_text,
    )
    if path == "/tasks":  # near-valid bodies too, so some are accepted (202)
        structured = st.one_of(
            structured,
            st.fixed_dictionaries(
                {"task_id": IDS, "agent_role": st.sampled_from(["analyzer", "refiner", "x"])},
                optional={"name": nasty_text, "inputs": json_values(6), "codebase": codebases},
            ),
        )
    if path == "/runs":
        structured = st.one_of(
            structured,
            st.fixed_dictionaries(
                {
                    "kind": st.just("analyze"),
                    "params": st.fixed_dictionaries(
                        {"codebase": codebases},
                        optional={
                            "focus": st.lists(nasty_text, max_size=3),
                            "tools": st.lists(st.sampled_from(["ruff", "x:y", ":"])),
                        },
                    ),
                }
            ),
            st.fixed_dictionaries(
                {
                    "kind": st.just("workflow"),
                    "params": st.fixed_dictionaries(
                        {"spec": spec_dicts}, optional={"codebase": codebases}
                    ),
                }
            ),
            st.builds(
                lambda k, p: {"kind": k, "params": p},
                st.sampled_from(["analyze", "workflow", "implement"]),
                st.one_of(
                    _model_fields(_models()[3]),
                    _model_fields(_models()[4]),
                    _model_fields(_models()[5]),
                    st.fixed_dictionaries({"spec": spec_dicts}),
                ),
            ),
        )
    return st.one_of(
        structured.map(
            lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")
        ),
        st.binary(max_size=200),
        nasty_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", ["/tasks", "/runs", "/workflows/validate"])
def test_http_api_random_bodies(api: Any, path: str, capsys: pytest.CaptureFixture[str]) -> None:
    target = f"http POST {path}"
    statuses: dict[int, int] = {}

    @settings(FAST, max_examples=1000)
    @given(_body_strategy(path))
    @example(b"[" * 100_000 + b"]" * 100_000)
    @example(b'{"spec": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    @example(b'{"spec": "' + b"[" * 50_000 + b'"}')
    @example(b'{"spec": {"workflow_id": "w", "tasks": [{"id": "t", "agent": ":x"}]}}')
    @example(b'{"spec": "a: &a [*a]"}')
    @example(b'{"kind": "analyze", "params": {"codebase": "/etc"}}')
    @example(b'{"kind": "analyze", "params": {"codebase": "../../../../etc"}}')
    @example(b'{"task_id": "t", "agent_role": "analyzer", "codebase": "/etc"}')
    @example(b'{"task_id": "t", "agent_role": "analyzer", "codebase": "\\u0000"}')
    @example(b'{"task_id": "0", "agent_role": "analyzer", "codebase": "~0"}')  # found by fuzzing
    @example(b'{"kind": "analyze", "params": {"codebase": "~no-such-user-x/y"}}')
    def check(body: bytes) -> None:
        TRIED[target] += 1
        r = api.post(path, content=body, headers={"Content-Type": "application/json"})
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        assert r.status_code < 500, f"{r.status_code} for {body[:200]!r}: {r.text[:500]}"
        assert r.status_code in (200, 202) or 400 <= r.status_code < 500
        assert "Traceback" not in r.text, r.text[:500]
        assert 'File "' not in r.text, r.text[:500]
        payload = r.json()
        if r.status_code >= 400:
            assert set(payload) == {"error", "detail"}, payload

    check()
    echo(capsys, report(target, 800) + f" (statuses {dict(sorted(statuses.items()))})")
