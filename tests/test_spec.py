"""Spec loading and validation: everything wrong is reported before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ai_conductor.errors import SpecError
from ai_conductor.spec import WorkflowSpec, load_spec, parse_spec

REPO = Path(__file__).resolve().parent.parent


def problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        parse_spec(text, source="s.yaml")
    return [p.render("s.yaml") for p in info.value.problems]


def test_seed_json_example_loads_unchanged() -> None:
    spec = load_spec(REPO / "workflows" / "seed_example.json")
    assert spec.workflow_id == "custom_optimization"
    assert [t.id for t in spec.tasks] == ["analyze_performance", "implement_optimizations"]
    assert spec.tasks[1].dependencies == ["analyze_performance"]
    assert spec.tasks[0].inputs["focus_areas"] == ["database", "api", "algorithms"]


def test_seed_conductor_config_keys_load() -> None:
    with pytest.warns(UserWarning, match="checkpoint_interval"):
        spec = WorkflowSpec.model_validate(
            {"workflow_id": "cfg", "conductor": {"workflow_timeout": 3600, "max_parallel_tasks": 5,
             "checkpoint_interval": 300}, "agents": {"eigencode": {"enabled": True,
             "timeout": 600, "retry_attempts": 3}}}
        )  # fmt: skip
    assert spec.settings.max_parallel_tasks == 5
    name, config = spec.agent_config("eigencode")
    assert (name, config.timeout, config.retry_attempts) == ("analyzer", 600, 3)


def test_seed_config_file_loads_unchanged_named_after_the_file() -> None:
    spec = load_spec(REPO / "workflows" / "conductor_config.yaml")
    assert spec.workflow_id == "conductor_config"
    assert spec.tasks == []
    assert spec.settings.workflow_timeout == 3600
    assert spec.agents["eigencode"].retry_attempts == 3
    with pytest.raises(SpecError, match="missing required key 'workflow_id'"):
        parse_spec("tasks: []\n")


def test_yaml_syntax_error_names_the_line() -> None:
    text = "workflow_id: x\ntasks:\n  - id: a\n    agent: noop\n    inputs: {a: [1, 2}\n"
    (msg,) = problems(text)
    assert msg.startswith("s.yaml:5:")
    assert "YAML syntax error" in msg


def test_json_syntax_error_names_line_and_column() -> None:
    with pytest.raises(SpecError) as info:
        parse_spec('{\n  "workflow_id": "x",\n  "tasks": [,]\n}', source="w.json")
    (problem,) = info.value.problems
    assert (problem.line, problem.column) == (3, 13)


def test_cycle_is_named() -> None:
    text = """
workflow_id: cyc
tasks:
  - {id: a, agent: noop, dependencies: [c]}
  - {id: b, agent: noop, dependencies: [a]}
  - {id: c, agent: noop, dependencies: [b]}
  - {id: d, agent: noop}
"""
    (msg,) = problems(text)
    assert "dependency cycle: a -> c -> b -> a" in msg
    assert msg.startswith("s.yaml:4:")


def test_unknown_key_duplicate_id_bad_id_unknown_dep_unknown_agent_all_reported() -> None:
    text = """
workflow_id: many
tasks:
  - id: a
    agent: noop
    depends_on: [b]
  - id: a
    agent: noop
  - id: "bad id"
    agent: noop
  - id: c
    agent: nonesuch
    dependencies: [zzz]
"""
    found = problems(text)
    joined = "\n".join(found)
    assert "s.yaml:6:5: tasks[0].depends_on: unknown key 'depends_on'" in joined
    assert "'bad id' is not a valid id" in joined
    # graph problems are reported once the structure is valid
    text2 = text.replace("    depends_on: [b]\n", "").replace('"bad id"', "e")
    found2 = "\n".join(problems(text2))
    assert "s.yaml:6:5: tasks[1].id: duplicate task id 'a'" in found2
    assert "s.yaml:12:20: tasks[3].dependencies[0]: unknown dependency 'zzz'" in found2
    assert "s.yaml:11:5: tasks[3].agent: unknown agent 'nonesuch'" in found2


def test_duplicate_yaml_keys_are_errors() -> None:
    (msg,) = problems("workflow_id: a\nworkflow_id: b\n")
    assert "s.yaml:2:1: workflow_id: duplicate key 'workflow_id'" in msg


def test_command_inputs_are_checked_before_running() -> None:
    (msg,) = problems(
        "workflow_id: w\ntasks:\n  - {id: t, agent: command, inputs: {command: ls -l}}\n"
    )
    assert "must be a non-empty list of strings" in msg


def test_implementer_and_refiner_inputs_are_checked_before_running() -> None:
    found = problems(
        "workflow_id: w\ntasks:\n"
        "  - {id: fix, agent: implementer, inputs: {attempts: 0, group_by: module, typo: 1}}\n"
        "  - {id: tidy, agent: refiner, inputs: {tidy: maybe}}\n"
    )
    text = "\n".join(found)
    assert "inputs.attempts: Input should be greater than or equal to 1" in text
    assert "inputs.group_by: Input should be 'file' or 'rule'" in text
    assert "inputs.typo: Extra inputs are not permitted" in text
    assert "inputs.tidy: Input should be a valid boolean" in text


def test_refiner_stack_names_are_normalised_like_the_cli() -> None:
    ok = "workflow_id: w\ntasks:\n  - {id: r, agent: refiner, inputs: {stack: Python-Postgres}}\n"
    assert parse_spec(ok, source="s.yaml").tasks[0].inputs["stack"] == "Python-Postgres"
    (msg,) = problems(ok.replace("Python-Postgres", "cobol"))
    assert "unknown stack 'cobol'" in msg


def test_named_agents_and_import_paths() -> None:
    spec = parse_spec(
        """
workflow_id: named
agents:
  lint: {role: command, timeout: 5}
  echo: {role: "ai_conductor.agents.builtin:NoopAgent"}
tasks:
  - {id: a, agent: lint, inputs: {command: [echo, hi]}}
  - {id: b, agent: echo, dependencies: [a]}
  - {id: c, agent: "ai_conductor.agents.builtin:NoopAgent"}
"""
    )
    assert spec.agent_config("lint")[0] == "command"
    assert spec.agent_config("echo")[0] == "ai_conductor.agents.builtin:NoopAgent"
    bad = problems("workflow_id: w\nagents:\n  x: {role: 'no.such.module:Thing'}\ntasks: []\n")
    assert "agent 'x' runs 'no.such.module:Thing', which is not a known agent" in bad[0]


def test_missing_file_and_empty_file(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match="file not found"):
        load_spec(tmp_path / "nope.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(SpecError, match="the spec is empty"):
        load_spec(empty)
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    with pytest.raises(SpecError, match="must be a mapping"):
        load_spec(scalar)


def test_seed_aliases_task_id_and_agent_role() -> None:
    spec = parse_spec("workflow_id: w\ntasks:\n  - {task_id: a, agent_role: noop}\n")
    assert spec.tasks[0].id == "a"
    assert spec.tasks[0].agent == "noop"


def test_json_duplicate_keys_and_escaping_codebase_path() -> None:
    with pytest.raises(SpecError, match="duplicate key 'workflow_id'"):
        parse_spec('{"workflow_id": "a", "workflow_id": "b"}', source="w.json")
    msg = problems(
        "workflow_id: w\ntasks:\n  - {id: t, agent: noop, inputs: {codebase_path: ../elsewhere}}\n"
    )
    assert "must be a folder inside the codebase (like 'src') or the absolute path" in msg[0]


@pytest.mark.parametrize("path", ["/srv/app", "~/code", "src", "src/sub", ".", ""])
def test_codebase_path_may_name_the_tasks_own_codebase_by_its_absolute_path(path: str) -> None:
    """The seed's API example: inputs={"codebase_path": "/path/to/code"} (issue 17 item 9)."""
    text = (
        f"workflow_id: w\ntasks:\n  - {{id: t, agent: noop, inputs: {{codebase_path: '{path}'}}}}\n"
    )
    assert parse_spec(text, source="s.yaml").tasks[0].inputs["codebase_path"] == path


def test_markup_in_a_spec_cannot_break_the_cli(tmp_path: Path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "markup.yaml"
    bad.write_text('workflow_id: m\ntasks:\n  - {id: a, agent: noop, dependencies: ["[/etc]"]}\n')
    conductor = Path(sys.executable).parent / "conductor"
    out = subprocess.run([str(conductor), "validate", str(bad)], capture_output=True, text=True)
    assert out.returncode == 2
    assert "unknown dependency '[/etc]'" in out.stderr


def test_control_characters_are_a_spec_error_not_a_crash() -> None:
    (msg,) = problems("workflow_id: w\x07\ntasks: []\n")
    assert "YAML syntax error" in msg


ALIAS_BOMB = """workflow_id: w
a: &a ["x","x","x","x","x","x","x","x","x","x"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]
tasks: [{id: t, agent: noop, inputs: {x: *f}}]
"""


@pytest.mark.timeout(30)  # expanding the bomb first would take minutes and gigabytes
def test_a_yaml_alias_bomb_is_refused_at_once() -> None:
    with pytest.raises(SpecError, match=r"expands to more than 100000 values \(nested YAML"):
        parse_spec(ALIAS_BOMB)  # ~300 bytes, a million values once expanded
    anchors = "workflow_id: w\nbase: &b {timeout: 5}\nagents: {noop: *b, command: *b}\ntasks: []\n"
    with pytest.raises(SpecError, match="unknown key 'base'"):  # a few aliases are fine
        parse_spec(anchors)


@pytest.mark.parametrize(
    "text",
    ["workflow_id: w\nx: &a [*a]\n", "workflow_id: w\ntasks: &t [{id: a, inputs: {x: *t}}]\n"],
)
def test_a_recursive_yaml_alias_is_a_spec_error(text: str) -> None:
    with pytest.raises(SpecError, match=r":2:\d+: a YAML alias refers to a value that contains"):
        parse_spec(text)
