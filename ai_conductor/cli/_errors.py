"""The one place a command's :class:`~ai_conductor.errors.ConductorError` becomes output.

Every Typer app of the CLI (the root and each command group) is built with
:class:`CommandGroup`: a ConductorError raised while a command runs is printed as
``error: <message>`` on stderr, without a traceback, and the process exits with the error's
``exit_code`` (2 bad usage or input, 3 the run failed; errors.py has the tree). A value outside
an option's choices is reported the same way, exit 2.
"""

from __future__ import annotations

import re
from enum import Enum, EnumMeta
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup

from ai_conductor.errors import ConductorError, UsageError

err = Console(stderr=True)


def show(exc: ConductorError, console: Console | None = None) -> int:
    """Print ``exc`` as every command does; return the exit code it stands for."""
    (console or err).print(
        f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
    )
    return exc.exit_code


_NOT_ONE_OF = re.compile(r"^(?:Value error, )?(?P<value>.*) is not one of ")


def _choices(param: Any) -> list[str] | None:
    """The values an option takes when it is a choice (an Enum), else None."""
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    if not isinstance(annotation, EnumMeta):
        return None
    members: list[Enum] = list(annotation)
    return [str(member.value) for member in members]


def _choice_error(exc: typer.BadParameter, choices: list[str]) -> UsageError:
    """``--format 'xml': choose one of json, sarif, markdown, html``."""
    option = exc.param.opts[0] if exc.param is not None and exc.param.opts else "value"
    given = _NOT_ONE_OF.match(exc.message)
    shown = f"{option} {given['value']}" if given else option
    return UsageError(f"{shown}: choose one of {', '.join(choices)}")


class CommandGroup(TyperGroup):
    """A command group that handles ConductorError (and bad choices) for all its commands."""

    def invoke(self, ctx: Any) -> Any:  # typer._click.Context (private)
        try:
            return super().invoke(ctx)
        except ConductorError as exc:
            raise typer.Exit(show(exc)) from None
        except typer.BadParameter as exc:
            choices = _choices(exc.param)
            if choices is None:
                raise
            raise typer.Exit(show(_choice_error(exc, choices))) from None


def group(help: str, **extra: Any) -> typer.Typer:
    """A command group of the CLI: errors handled as above, help when called without a command."""
    extra.setdefault("no_args_is_help", True)
    return typer.Typer(cls=CommandGroup, help=help, add_completion=False,
                       pretty_exceptions_enable=False, **extra)  # fmt: skip


def top_level() -> typer.Typer:
    """A module's top-level commands, mounted into the root app as they are (no group)."""
    return typer.Typer(add_completion=False, pretty_exceptions_enable=False)
