"""The README's command synopsis (the block under "## Command line") against ``--help``: every
command, subcommand and option it names exists, and the choices it lists for an option are the
ones the option accepts."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import EnumMeta
from pathlib import Path
from typing import Any

from typer.main import get_command
from typer.testing import CliRunner

from ai_conductor.cli import app

README = Path(__file__).parents[1] / "README.md"
OPTION = re.compile(r"(?<![\w-])(--?[A-Za-z][\w-]*)")
CHOICES = re.compile(r"(--[\w-]+)\s+([\w.]+(?:\|[\w.]+)+)")
WORD = re.compile(r"^[a-z][a-z-]*$")
COMMENT = re.compile(r"\s{2,}\(.*\)\s*$")  # "(alias: orchestrate)", "(MCP over stdio)"


@dataclass
class Synopsis:
    """What the README says about one top-level command."""

    options: set[str] = field(default_factory=set)
    words: set[str] = field(default_factory=set)
    choices: dict[str, set[str]] = field(default_factory=dict)


def synopsis_block() -> list[str]:
    text = README.read_text()
    block = text.split("## Command line\n", 1)[1].split("```", 2)[1]
    return [line for line in block.splitlines() if line.strip()]


def parse(lines: list[str]) -> dict[str, Synopsis]:
    """Each ``conductor NAME ...`` line, and its indented continuation lines, by NAME."""
    found: dict[str, Synopsis] = {}
    current = ""
    for line in lines:
        if line.startswith("conductor "):
            current, _, line = line.removeprefix("conductor ").lstrip().partition(" ")
        entry = found.setdefault(current, Synopsis())
        body = COMMENT.sub("", line)
        entry.options |= set(OPTION.findall(body))
        entry.choices |= {opt: set(values.split("|")) for opt, values in CHOICES.findall(body)}
        bare = (t.strip("[]") for t in body.split())
        entry.words |= {t for t in bare if WORD.match(t)}
    return found


def _help(path: list[str]) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, (path, result.output)
    return result.output


def _choices(command: Any) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for cmd in [command, *getattr(command, "commands", {}).values()]:
        for param in cmd.params:
            annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
            values = [m.value for m in annotation] if isinstance(annotation, EnumMeta) else None
            if values is not None:
                out |= {opt: {str(v) for v in values} for opt in param.opts}
    return out


def test_the_readme_block_is_found_and_parsed() -> None:
    found = parse(synopsis_block())
    assert {"analyze", "implement", "refine", "run", "validate", "logs", "findings"} <= set(found)
    assert {"--fail-on", "--format", "--diff-base"} <= found["analyze"].options
    assert found["server"].words == {"start", "status", "stop"}
    assert found["implement"].choices["--group-by"] == {"file", "rule"}


def test_every_command_option_and_choice_of_the_readme_synopsis_exists() -> None:
    root = get_command(app)
    commands: dict[str, Any] = getattr(root, "commands", {})
    for name, said in parse(synopsis_block()).items():
        if name == "--version":
            assert "--version" in _help([])
            continue
        assert name in commands, f"README names `conductor {name}`, which does not exist"
        command = commands[name]
        subs: dict[str, Any] = getattr(command, "commands", {})
        assert said.words <= set(subs), (name, said.words - set(subs))
        shown = _help([name]) + "".join(_help([name, sub]) for sub in subs)
        for option in said.options:
            assert re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", shown), (name, option)
        accepted = _choices(command)
        for option, values in said.choices.items():
            if option in accepted:
                assert values == accepted[option], (name, option, values, accepted[option])
