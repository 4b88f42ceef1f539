"""Hypothesis strategies for hostile input, and a counter of the examples each target tried."""

from __future__ import annotations

import json
import string
from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from ai_conductor.errors import UsageError

E = TypeVar("E", bound=UsageError)
TRIED: Counter[str] = Counter()
"""Examples tried per fuzz target (printed by each test, read by the reliability report)."""


def report(target: str, minimum: int) -> str:
    """The line a test prints; fails the test when hypothesis ran fewer examples than claimed."""
    n = TRIED[target]
    assert n >= minimum, f"{target}: only {n} examples ran (expected at least {minimum})"
    return f"FUZZ {target}: {n} examples, 0 tracebacks"


FAST = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
"""No per-example deadline, no example database (runs are independent), big inputs allowed."""


def echo(capsys: pytest.CaptureFixture[str], line: str) -> None:
    """Print past pytest's capture, so the counts show in every run's output."""
    with capsys.disabled():
        print(f"\n{line}")


def raised(kind: type[E], call: Callable[[], object]) -> E | None:
    """The ``kind`` of UsageError ``call`` raises, or None; any other exception fails the test."""
    try:
        call()
    except kind as exc:
        return exc
    return None


def usage_error(call: Callable[[], object]) -> UsageError | None:
    """The UsageError ``call`` raises, or None; any other exception fails the test."""
    return raised(UsageError, call)


CONTROL = "".join(chr(c) for c in (*range(0, 32), 127, 0x85, 0x2028, 0xFEFF, 0xFFFE))
nasty_text = st.text(
    alphabet=st.one_of(st.characters(codec="utf-8"), st.sampled_from(CONTROL)), max_size=40
)
"""Any text, with extra control characters, BOMs and line separators."""

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
    st.sampled_from(["", "0", "-1", "1e309", "NaN", "noop", "analyzer", ".", "..", "/", "~"]),
)


def json_values(max_leaves: int = 20) -> st.SearchStrategy[Any]:
    """Random JSON-like values: scalars, lists and dicts with text keys."""
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(nasty_text, inner, max_size=4)
        ),
        max_leaves=max_leaves,
    )


def fields(names: dict[str, st.SearchStrategy[Any]], junk: bool = True) -> st.SearchStrategy[Any]:
    """Dicts over a model's field names (any subset), each with its plausible or a random value;
    sometimes an unknown key too."""
    value_for = {k: st.one_of(v, json_values(6)) for k, v in names.items()}
    base = st.fixed_dictionaries({}, optional=value_for)
    if not junk:
        return base
    return st.one_of(base, st.builds(lambda d, k, v: {**d, k: v}, base, nasty_text, scalars))


# ---- workflow specs -------------------------------------------------------------------------

AGENT_NAMES = st.one_of(
    st.sampled_from(
        [
            "noop",
            "command",
            "analyzer",
            "implementer",
            "refiner",
            "eigencode",
            "cursor",
            "roo",
            ":x",
            ".x:y",
            "..:z",
            "os:",
            "os:nope",
            "nonexistent_mod_zz:F",
            "json:loads",
            "ai_conductor.agents.builtin:NoopAgent",
            "a\x00b:c",
            "x" * 300,
        ]
    ),
    # no ':' in random names: an import path imports the module (random names could import
    # a module with side effects, e.g. 'antigravity' opens a browser)
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters=":"), max_size=20),
)
IDS = st.one_of(
    st.from_regex(r"[A-Za-z0-9_-]{1,12}", fullmatch=True),
    st.sampled_from(["a", "b", "t1", "t2"]),
    nasty_text,
)
settings_dicts = fields(
    {
        "workflow_timeout": st.floats(),
        "max_parallel_tasks": st.integers(),
        "checkpoint_interval": st.floats(),
    }
)
agent_dicts = fields(
    {
        "role": AGENT_NAMES,
        "enabled": st.booleans(),
        "backend": st.sampled_from(["builtin", "openai", "anthropic", "command", "fake"]),
        "timeout": st.floats(),
        "retry_attempts": st.integers(),
        "retry_delay": st.floats(),
        "options": json_values(8),
    }
)
task_dicts = fields(
    {
        "id": IDS,
        "task_id": IDS,
        "name": nasty_text,
        "agent": AGENT_NAMES,
        "agent_role": AGENT_NAMES,
        "description": nasty_text,
        "inputs": st.one_of(
            st.fixed_dictionaries(
                {},
                optional={
                    "codebase_path": st.one_of(
                        st.sampled_from(["..", "/etc", "../x", "a/../..", "src", "."]), scalars
                    ),
                    "command": st.one_of(st.lists(nasty_text, max_size=3), scalars),
                    "focus": json_values(4),
                },
            ),
            json_values(8),
        ),
        "dependencies": st.one_of(st.lists(IDS, max_size=4), json_values(4)),
        "timeout": st.floats(),
        "retry_attempts": st.integers(),
    }
)
spec_dicts = fields(
    {
        "workflow_id": IDS,
        "name": IDS,
        "description": nasty_text,
        "codebase": nasty_text,
        "settings": settings_dicts,
        "conductor": settings_dicts,
        "agents": st.dictionaries(AGENT_NAMES, agent_dicts, max_size=3),
        "tasks": st.lists(task_dicts, max_size=5),
    }
)

YAML_TOKENS = st.sampled_from(
    ["workflow_id: w\n", "tasks:\n", "- id: t\n", "  agent: noop\n", "  dependencies: [t]\n",
     "agents:\n", "  x: &a {role: noop}\n", "  y: *a\n", "<<: *a\n", "&b [", "*b", "*nope",
     "!!python/object/apply:os.system ['touch /tmp/pwn']\n", "!!binary aGk=\n", "!!set {a}\n",
     "!!timestamp x\n", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "? ", ": ",
     "- ", "{", "}", "[", "]", ",", "'", '"', "\t", "\n", "  ", "#", "|\n", ">-\n", "\x00",
     "\x85", "\ufeff", "\u2028", "\x1b[31m", "\\u0000", "&", "*", "!", "%", "@", "`"]
)  # fmt: skip


def _yaml_of(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


spec_texts = st.one_of(
    st.lists(YAML_TOKENS, max_size=30).map("".join),
    nasty_text,
    spec_dicts.map(_yaml_of),
    spec_dicts.map(lambda d: json.dumps(d, ensure_ascii=False)),
    st.builds(lambda d, cut: json.dumps(d)[:cut], spec_dicts, st.integers(0, 200)),
    st.builds(lambda d, junk: _yaml_of(d) + junk, spec_dicts, st.lists(YAML_TOKENS).map("".join)),
)
spec_files = st.one_of(
    spec_texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=400),
    st.builds(
        lambda t, b: t.encode("utf-8", "surrogatepass") + b, spec_texts, st.binary(max_size=8)
    ),
)


# ---- analysis.json --------------------------------------------------------------------------

SEVERITIES = st.sampled_from(["critical", "high", "medium", "low", "info", "CRITICAL", "x", ""])
finding_dicts = fields(
    {
        "tool": nasty_text,
        "rule_id": nasty_text,
        "rule_name": nasty_text,
        "severity": SEVERITIES,
        "category": st.sampled_from(["security", "bug", "style", "nope"]),
        "path": st.sampled_from(["a.py", "../../etc/passwd", "/etc/passwd", "a/../../b.py", ""]),
        "line": st.integers(),
        "end_line": st.integers(),
        "column": st.integers(),
        "end_column": st.integers(),
        "message": nasty_text,
        "fixable": st.booleans(),
        "tags": st.lists(nasty_text, max_size=3),
        "help_uri": nasty_text,
        "fingerprint": nasty_text,
        "also_reported_by": st.lists(nasty_text, max_size=3),
        "status": st.sampled_from(["new", "existing", "fixed", "gone"]),
    }
)
DATES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["2026-01-01T00:00:00Z", "yesterday", "9999-99-99", "0", ""]),
)
analysis_dicts = fields(
    {
        "schema_version": st.sampled_from(["1.0", "1.9", "1", "2.0", "0.1", "", "1.0.0"]),
        "generator": nasty_text,
        "generator_version": nasty_text,
        "run_id": nasty_text,
        "codebase": nasty_text,
        "codebase_id": nasty_text,
        "started_at": DATES,
        "finished_at": DATES,
        "focus": st.lists(nasty_text, max_size=3),
        "tools": st.lists(
            fields({"name": nasty_text, "available": st.booleans(), "duration_s": st.floats()}),
            max_size=3,
        ),
        "files_analyzed": st.integers(),
        "skipped": st.lists(fields({"path": nasty_text, "reason": nasty_text}), max_size=3),
        "summary": fields({"total": st.integers(), "by_severity": json_values(4)}),
        "findings": st.lists(finding_dicts, max_size=4),
        "fixed": st.lists(finding_dicts, max_size=2),
        "hotspots": st.lists(json_values(6), max_size=2),
        "warnings": st.lists(nasty_text, max_size=3),
        "extra": json_values(6),
    }
)
analysis_files = st.one_of(
    analysis_dicts.map(
        lambda d: json.dumps(d, ensure_ascii=False).encode("utf-8", "surrogatepass")
    ),
    st.builds(lambda d, cut: json.dumps(d).encode()[:cut], analysis_dicts, st.integers(0, 300)),
    json_values().map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=300),
    st.lists(YAML_TOKENS, max_size=20).map(lambda t: "".join(t).encode("utf-8", "surrogatepass")),
)

ascii_printable = st.text(alphabet=string.printable, max_size=30)
