"""Option placeholders in ``--help``: a flag shows none, an option shows what to type.

Typer's help shows every option's Python type as a placeholder (``--new-only <bool>``,
``--output <path>``, ``--focus <list[str]>``), which reads as if a flag took a value. The root
command class below sets each option's metavar once, before a command runs or shows its help:
flags get none, options a word from :data:`PLACEHOLDERS` (by option name, one vocabulary for the
whole CLI), else one derived from the type. A metavar given in an option's declaration wins.
"""

from __future__ import annotations

import re
from typing import Any, Final

import typer
from typer.core import TyperOption

from ai_conductor.cli._errors import CommandGroup

PLACEHOLDERS: Final = {
    "--analysis": "FILE", "--backend": "NAME", "--category": "NAME", "--codebase": "PATH",
    "--config": "SPEC", "--fail-on": "LEVEL", "--focus": "AREA", "--format": "FORMAT",
    "--limit": "N", "--output": "FILE", "--run": "RUN_ID", "--severity": "LEVEL",
    "--min-severity": "LEVEL", "--since": "WHEN", "--stack": "NAME", "--status": "STATUS",
    "--tool": "TOOL", "--workflow": "ID", "--task": "ID", "--host": "HOST", "--port": "PORT",
    "--remote": "NAME", "--model": "NAME", "--preset": "NAME", "--name": "NAME", "--by": "NAME",
    "--base-url": "URL", "--backend-option": "KEY=VALUE", "--test-command": "COMMAND",
    "--group-by": "file|rule", "--max-cost": "USD", "--older-than": "DAYS",
    "--timeout": "SECONDS", "--test-timeout": "SECONDS", "--max-seconds": "SECONDS",
    "--poll-interval": "SECONDS", "--connection-id": "ID", "--reason": "TEXT",
    "--forge": "FORGE", "--label": "NAME", "--diff-base": "REF", "--pull": "N",
}  # fmt: skip
"""Placeholders of options whose names recur across commands."""
_BY_TYPE: Final = {
    "str": "TEXT", "int": "N", "float": "NUMBER", "path": "PATH", "file": "FILE",
    "directory": "DIR", "datetime": "WHEN", "int range": "N", "float range": "NUMBER",
}  # fmt: skip
_TYPE = re.compile(r"^<(?:list\[)?(?P<name>[^\]>]*)\]?>$")


def placeholder(option: TyperOption, ctx: typer.Context) -> str:
    """What to type after ``option`` ("" for a flag)."""
    if option.is_flag or option.count:
        return ""
    for name in option.opts:
        if name in PLACEHOLDERS:
            return PLACEHOLDERS[name]
    shown = option.display_type(ctx)
    match = _TYPE.match(shown)
    name = match["name"] if match else shown
    if "|" in name:  # choices: list them
        return f"[{name}]"
    return _BY_TYPE.get(name.lower(), name.upper() or "VALUE")


def tidy(command: Any) -> None:
    """Set the placeholder of every option of ``command`` and its subcommands (once)."""
    if getattr(command, "_conductor_tidy", False):
        return
    ctx = typer.Context(command)
    options = [*command.params, command.get_help_option(ctx)]
    for option in options:
        if isinstance(option, TyperOption) and option.metavar is None:
            option.metavar = placeholder(option, ctx)
    command._conductor_tidy = True
    for sub in getattr(command, "commands", {}).values():
        tidy(sub)


class ConductorGroup(CommandGroup):
    """The root command: tidies the placeholders of the whole command tree, then runs (errors
    handled as in every :class:`CommandGroup`)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:
        tidy(self)
        return super().main(*args, **kwargs)
