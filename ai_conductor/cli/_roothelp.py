"""``conductor --help``: the root's help, laid out as every command's is (usage, description, an
Options panel, a Commands panel) but drawn in plain text from
:data:`~ai_conductor.cli._commands.COMMANDS`' summaries. It imports no command module, neither
rich nor Typer's help renderer (which loads a Markdown parser): those made ``--help`` slow.
"""

from __future__ import annotations

import inspect
import shutil
import textwrap
from collections.abc import Iterator
from typing import Any

import typer

from ai_conductor.cli._commands import COMMANDS


def _panel(title: str, rows: list[tuple[str, str]], width: int) -> Iterator[str]:
    """A box titled ``title``: a column of names, then their text wrapped beside them."""
    names = max(len(name) for name, _ in rows)
    room = max(width - names - 6, 20)
    inner = names + 2 + room
    yield f"╭─ {title} " + "─" * max(inner - len(title) - 1, 0) + "╮"
    for name, text in rows:
        lines = textwrap.wrap(" ".join(text.split()), room) or [""]
        for i, line in enumerate(lines):
            label = name if i == 0 else ""
            yield f"│ {label:<{names}}  {line:<{room}} │"
    yield "╰" + "─" * (inner + 2) + "╯"


def _options(command: Any, ctx: Any) -> list[tuple[str, str]]:
    rows = []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        names = ", ".join([*param.opts, *param.secondary_opts])
        metavar = getattr(param, "metavar", None)
        rows.append((f"{names} {metavar}" if metavar else names, getattr(param, "help", "") or ""))
    return rows


def root_help(command: Any, ctx: Any, width: int) -> str:
    """The help of the root ``command`` (the ``conductor`` group), ``width`` columns wide."""
    paragraphs = inspect.cleandoc(command.help or "").split("\n\n")
    text = ["", f" {command.get_usage(ctx)}", ""]
    for paragraph in paragraphs:
        text += [f" {line}" for line in textwrap.wrap(" ".join(paragraph.split()), width - 2)]
        text.append("")
    text += _panel("Options", _options(command, ctx), width)
    shown = [(entry.name, entry.summary) for entry in COMMANDS if not entry.hidden]
    text += _panel("Commands", shown, width)
    return "\n".join(text)


def print_root_help(command: Any, ctx: Any) -> None:
    """Print the root's help on stdout, as wide as the terminal (``COLUMNS`` if set, else 80
    columns when the output is not a terminal)."""
    typer.echo(root_help(command, ctx, shutil.get_terminal_size().columns))
