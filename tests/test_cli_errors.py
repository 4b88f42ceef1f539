"""The CLI's error handling, once for every command (cli/_errors.py), and its choices (Enums in
cli/_options.py) against the library's own vocabularies."""

from __future__ import annotations

from enum import StrEnum

import pytest
import typer
from typer.main import get_command
from typer.testing import CliRunner

from ai_conductor.cli import _options, app
from ai_conductor.cli._errors import CommandGroup, group
from ai_conductor.errors import ConductorError, UsageError


def _sample() -> typer.Typer:
    sample = group("A group like every command group of the CLI.")

    @sample.command("usage")
    def usage() -> None:
        raise UsageError("give a [red]path[/red]")

    @sample.command("failed")
    def failed() -> None:
        raise ConductorError("the store is down")

    @sample.command("choice")
    def choice(fmt: _options.ReportFormat = _options.ReportFormat.json) -> None:
        typer.echo(fmt.value)

    return sample


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["usage"], 2, "error: give a [red]path[/red]\n"),
        (["failed"], 3, "error: the store is down\n"),
        (["choice", "--fmt", "xml"], 2,
         "error: --fmt 'xml': choose one of json, sarif, markdown, html\n"),
    ],
)  # fmt: skip
def test_a_group_turns_conductor_errors_and_bad_choices_into_message_and_exit_code(
    args: list[str], code: int, message: str
) -> None:
    result = CliRunner().invoke(_sample(), args)
    assert (result.exit_code, result.stderr) == (code, message)
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_every_group_of_the_cli_handles_errors_itself() -> None:
    """Sub-apps are invoked on their own too (tests, embedding): each is a CommandGroup."""
    root = get_command(app)
    groups = [root, *(c for c in getattr(root, "commands", {}).values() if hasattr(c, "commands"))]
    assert len(groups) == 7
    assert all(isinstance(g, CommandGroup) for g in groups), [type(g) for g in groups]


class GateFailed(ConductorError):
    exit_code = 1


def test_the_exit_code_is_the_errors_own_and_a_plain_exit_passes_through() -> None:
    sample = group("gate")

    @sample.command("gate")
    def gate() -> None:
        raise GateFailed("2 finding(s) at or above high")

    @sample.command("other")
    def other() -> None:
        raise typer.Exit(4)

    gated = CliRunner().invoke(sample, ["gate"])
    assert (gated.exit_code, gated.stderr) == (1, "error: 2 finding(s) at or above high\n")
    assert CliRunner().invoke(sample, ["other"]).exit_code == 4


def test_the_choices_are_the_library_vocabularies() -> None:
    from ai_conductor.analysis.gate import FAIL_LEVELS
    from ai_conductor.analysis.models import FindingStatus, Severity
    from ai_conductor.environment.models import TEST_ENVS
    from ai_conductor.forge.config import KINDS
    from ai_conductor.reports import FORMATS

    def values(choice: type[StrEnum]) -> tuple[str, ...]:
        return tuple(m.value for m in choice)

    assert values(_options.FailOn) == FAIL_LEVELS
    assert values(_options.ReportFormat) == tuple(FORMATS)
    assert values(_options.Severity) == tuple(s.value for s in Severity)
    assert values(_options.FindingStatus) == tuple(s.value for s in FindingStatus)
    assert values(_options.TestEnv) == TEST_ENVS
    assert values(_options.Forge) == KINDS
    assert values(_options.GroupBy) == ("file", "rule")
