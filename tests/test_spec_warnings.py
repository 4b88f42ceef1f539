"""Warnings for specs that validate but say something else than meant: a sentence that a
``{...}`` mapping splits at its commas into keys with null values (issue 17, item 6)."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from ai_conductor.errors import SpecWarning
from ai_conductor.spec import load_spec, parse_spec
from tests.test_cli import conductor

REPO = Path(__file__).resolve().parent.parent
SPLIT = """\
workflow_id: w
tasks:
  - id: summary
    agent: noop
    inputs: {message: sample project compiled, tested, measured and analysed, n: 1}
"""


def test_a_sentence_split_into_null_keys_is_warned_with_its_line_and_fix() -> None:
    spec = parse_spec(SPLIT, source="s.yaml")
    assert spec.tasks[0].inputs == {"message": "sample project compiled", "tested": None,
                                    "measured and analysed": None, "n": 1}  # fmt: skip
    [warning] = spec.warnings
    assert warning.startswith("s.yaml:5:14: tasks[0].inputs.message: ")
    assert "'tested', 'measured and analysed'" in warning
    assert 'quote it: message: "sample project compiled, tested, measured and analysed"' in (
        warning
    )


@pytest.mark.parametrize(
    "inputs",
    [
        "{message: 'compiled, tested'}",  # quoted: one value
        "{a: , b: ~, c: null}",  # explicit (empty) values are meant
        "\n      message: compiled, tested and analysed",  # block style keeps the commas
        "{items: [one, two], n: 1}",  # commas inside a [...] list
    ],
)
def test_meant_values_are_not_warned(inputs: str) -> None:
    text = f"workflow_id: w\ntasks:\n  - id: a\n    agent: noop\n    inputs: {inputs}\n"
    assert parse_spec(text, source="s.yaml").warnings == ()


def test_keys_without_any_value_are_warned_too() -> None:
    text = "workflow_id: w\ntasks:\n  - {id: a, agent: noop, inputs: {alpha, beta: 1}}\n"
    [warning] = parse_spec(text, source="s.yaml").warnings
    assert warning.startswith("s.yaml:3:35: tasks[0].inputs.alpha: key(s) 'alpha' have no value")


def test_load_spec_issues_a_python_warning_for_library_callers(tmp_path: Path) -> None:
    path = tmp_path / "split.yaml"
    path.write_text(SPLIT)
    with pytest.warns(SpecWarning, match=r"split\.yaml:5:14: .*quote it"):
        load_spec(path)


def test_the_shipped_specs_have_no_warnings_and_the_demo_message_is_whole() -> None:
    for path in sorted((REPO / "workflows").glob("*.y*ml")):
        with warnings.catch_warnings():
            warnings.simplefilter("error", SpecWarning)
            spec = load_spec(path)
        assert spec.warnings == (), path
    demo = load_spec(REPO / "workflows" / "demo.yaml")
    assert demo.task("summary").inputs == {
        "message": "sample project compiled, tested, measured and analysed"
    }


def test_conductor_validate_prints_the_warning_and_still_succeeds(tmp_path: Path) -> None:
    path = tmp_path / "split.yaml"
    path.write_text(SPLIT)
    out = conductor("validate", str(path))
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("ok: ")
    assert "(1 warning(s) above)" in out.stdout
    assert f"warning: {path}:5:14: tasks[0].inputs.message:" in out.stderr
    assert "quote it" in out.stderr
    assert "SpecWarning" not in out.stderr
