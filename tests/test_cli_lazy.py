"""``conductor --help`` and ``--version`` answer without loading the commands (issue 17): the root
imports no command module and not Typer's rich help renderer (with its Markdown parser); a
command loads its own module only. The root help's summaries come from a static table, checked
here against each command's own help so it cannot drift. (Timings: benchmarks/startup.py.)"""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys

from typer.testing import CliRunner

from ai_conductor.cli import app
from ai_conductor.cli._commands import COMMANDS, convert

COMMAND_MODULES = {f"ai_conductor.cli.{entry.module}" for entry in COMMANDS}
RENDERERS = {"typer.rich_utils", "rich.markdown", "markdown_it"}
PROBE = """
import io, json, sys
from contextlib import redirect_stdout
from ai_conductor.cli import main
out = io.StringIO()
with redirect_stdout(out):
    try:
        main(sys.argv[1:])
    except SystemExit as exc:
        code = exc.code
print(json.dumps({"code": code, "output": out.getvalue(), "loaded": sorted(sys.modules)}))
"""


def conductor(*args: str) -> tuple[int, str, set[str]]:
    """Exit code, stdout and the modules loaded of ``conductor ARGS`` in a fresh interpreter."""
    env = {**os.environ, "COLUMNS": "100"}
    done = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True,
                          timeout=120, check=True, env=env)  # fmt: skip
    probe = json.loads(done.stdout)
    return probe["code"], probe["output"], set(probe["loaded"])


def test_help_loads_no_command_module_and_not_the_rich_help_renderer() -> None:
    code, output, loaded = conductor("--help")
    assert code == 0
    slow = loaded & (COMMAND_MODULES | RENDERERS)
    assert not slow, sorted(slow)
    assert "Exit codes: 0 success" in output
    assert "─ Options " in output
    commands = output.split("─ Commands ")[1]
    for entry in COMMANDS:
        assert (f"│ {entry.name} " in commands) is not entry.hidden, entry.name
    assert commands.index("│ run ") < commands.index("│ analyze ") < commands.index("│ logs ")


def test_version_loads_no_command_module_and_no_rich() -> None:
    code, output, loaded = conductor("--version")
    assert (code, output.split()[0]) == (0, "conductor")
    assert not loaded & COMMAND_MODULES, sorted(loaded & COMMAND_MODULES)
    assert not any(name == "rich" or name.startswith("rich.") for name in loaded)


def test_a_command_loads_its_own_module_only() -> None:
    code, output, loaded = conductor("analyze", "--help")
    assert code == 0
    assert "--codebase" in output
    assert loaded & COMMAND_MODULES == {"ai_conductor.cli.analyze"}


def _summary(command: object) -> str:
    """What a group's help lists for ``command``: the first paragraph of its help."""
    text = getattr(command, "short_help", None) or getattr(command, "help", None) or ""
    return " ".join(inspect.cleandoc(text).split("\n\n")[0].split())


def test_the_table_matches_what_each_module_declares() -> None:
    by_module: dict[tuple[str, str], list[str]] = {}
    for entry in COMMANDS:
        by_module.setdefault((entry.module, entry.attribute), []).append(entry.name)
    for entry in COMMANDS:
        declared = convert(entry)
        assert sorted(declared) == sorted(by_module[entry.module, entry.attribute]), entry.module
        command = declared[entry.name]
        assert _summary(command) == entry.summary, entry.name
        assert command.hidden is entry.hidden, entry.name


def test_an_unknown_command_is_still_reported_with_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["analyse"], env={"COLUMNS": "120"})
    assert result.exit_code == 2
    assert "No such command 'analyse'. Did you mean 'analyze'?" in result.output
