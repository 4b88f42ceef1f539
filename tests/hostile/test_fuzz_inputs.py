"""Property-based hostile input: spec files and analysis.json files never end in a traceback,
only in the project's own errors with a clear message that names the file.

Each test counts the examples hypothesis actually ran and prints ``FUZZ <target>: N examples``
(the figures in RELIABILITY.md); it fails if fewer ran than its ``max_examples`` promises.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ai_conductor.errors import SpecError, UsageError
from ai_conductor.reports import load_analysis
from ai_conductor.spec import load_spec, validate_data
from tests.hostile._strategies import (
    FAST,
    TRIED,
    analysis_dicts,
    analysis_files,
    echo,
    json_values,
    raised,
    report,
    spec_dicts,
    spec_files,
    usage_error,
)

DEEP_JSON = b'{"workflow_id": "w", "tasks": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"
DEEP_YAML = b"workflow_id: w\ntasks: " + b"[" * 50_000 + b"]" * 50_000 + b"\n"
LAUGHS = b"a: &a [x, x, x, x, x, x, x, x, x]\n" + b"".join(
    b"%c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n" % ((98 + i, 98 + i) + (97 + i,) * 9)
    for i in range(9)
)
RECURSIVE = b"a: &a [*a]\n"


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile-files")


# ---- spec files ------------------------------------------------------------------------------


def _spec_file_property(path: Path, content: bytes) -> None:
    path.write_bytes(content)
    error = raised(SpecError, lambda: load_spec(path))
    if error is not None:
        assert error.problems, "a SpecError lists its problems"
        text = str(error)
        assert str(path) in text, f"the message names the file: {text[:300]}"
        assert "Traceback" not in text


@pytest.mark.parametrize("name", ["spec.yaml"])
def test_load_spec_random_files(
    scratch: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    path = scratch / name

    @settings(FAST, max_examples=1000)
    @given(spec_files)
    @example(DEEP_JSON)
    @example(DEEP_YAML)
    @example(LAUGHS)
    @example(RECURSIVE)
    @example(b"workflow_id: w\ndescription: " + b"x" * 5_000_000 + b"\n")
    @example(b"\xff\xfe\x00w")
    @example(b"!!python/object/apply:os.system ['true']\n")
    @example(b"workflow_id: w\ntasks: [{id: t, agent: ':x'}, {id: u, agent: '.x:y'}]\n")
    def check(content: bytes) -> None:
        TRIED["load_spec"] += 1
        _spec_file_property(path, content)

    check()
    echo(capsys, report("load_spec", 800))


def test_validate_data_structured(capsys: pytest.CaptureFixture[str]) -> None:
    @settings(FAST, max_examples=1500)
    @given(st.one_of(spec_dicts, json_values()))
    @example({"workflow_id": "w", "tasks": [{"id": "t", "agent": "noop", "inputs": {}}]})
    @example({"workflow_id": "w", "tasks": [{"id": "t", "agent": ":x"}]})
    @example({"workflow_id": "w", "tasks": [{"id": "t", "agent": "noop", "inputs": _deep(5000)}]})
    def check(data: Any) -> None:
        TRIED["validate_data"] += 1
        error = raised(SpecError, lambda: validate_data(data, source="fuzz.yaml"))
        if error is not None:
            assert error.problems
            assert "fuzz.yaml" in str(error)

    check()
    echo(capsys, report("validate_data", 1200))


def _deep(n: int) -> Any:
    value: Any = []
    for _ in range(n):
        value = {"a": value}
    return value


def test_deep_and_recursive_specs_are_clear_errors(tmp_path: Path) -> None:
    """The inputs the fuzzers found: each used to end in a traceback."""
    for name, content, expect in (
        ("deep.json", DEEP_JSON, "nests too deeply"),
        ("deep.yaml", DEEP_YAML, "nests too deeply"),
        ("laughs.yaml", LAUGHS, "expands to more than"),
        ("loop.yaml", RECURSIVE, "recursive alias"),
    ):
        path = tmp_path / name
        path.write_bytes(content)
        with pytest.raises(SpecError, match=expect):
            load_spec(path)
    for agent in (":x", ".x:y"):  # ValueError / TypeError from importlib used to escape
        with pytest.raises(SpecError, match="unknown agent"):
            validate_data({"workflow_id": "w", "tasks": [{"id": "t", "agent": agent}]})
    for tagged in ("!!timestamp x", "!!timestamp 2020-13-45", "!!int zz", "!!float q"):
        path = tmp_path / "tagged.yaml"  # PyYAML's constructors raised plain Python errors
        path.write_text(f"workflow_id: w\ndescription: {tagged}\n")
        with pytest.raises(SpecError, match="YAML value that cannot be read"):
            load_spec(path)
    deep = tmp_path / "analysis.json"
    deep.write_bytes(b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(UsageError, match="nests too deeply"):
        load_analysis(deep)


# ---- analysis.json ---------------------------------------------------------------------------


def test_load_analysis_random_files(scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scratch / "analysis.json"

    @settings(FAST, max_examples=1200)
    @given(analysis_files)
    @example(b"[" * 100_000 + b"]" * 100_000)
    @example(b'{"schema_version": "1.0", "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    @example(b'{"schema_version": {"a": 1}}')
    @example(b'{"schema_version": 1.0}')
    @example(b"\xef\xbb\xbf{}")
    def check(content: bytes) -> None:
        TRIED["load_analysis"] += 1
        path.write_bytes(content)
        error = usage_error(lambda: load_analysis(path))
        if error is not None:
            text = str(error)
            assert text.startswith(str(path)), text[:300]
            assert "Traceback" not in text

    check()
    echo(capsys, report("load_analysis", 1000))


def test_load_analysis_structured(scratch: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = scratch / "analysis-structured.json"

    @settings(FAST, max_examples=1200)
    @given(analysis_dicts.map(lambda d: {"schema_version": "1.0", **d}))
    def check(data: dict[str, Any]) -> None:
        TRIED["load_analysis_structured"] += 1
        path.write_text(json.dumps(data))
        error = usage_error(lambda: load_analysis(path))
        if error is not None:
            assert str(error).startswith(str(path))

    check()
    echo(capsys, report("load_analysis_structured", 1000))
