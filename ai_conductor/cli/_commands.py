"""The root's commands, loaded one module at a time: ``conductor --help`` imports none of them.

:data:`COMMANDS` lists every command in help order with the module that declares it and its
one-line summary, which the root help shows without importing the module (tests/test_cli_lazy.py
checks each summary against the command's own help, so the table cannot drift). A command is
imported and converted to a Click command only when it is looked up (:class:`LazyCommands`):
``conductor analyze`` imports ``cli/analyze.py`` alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, MutableMapping
from importlib import import_module
from typing import Any, Final, NamedTuple

import typer
from typer.main import get_command


class Entry(NamedTuple):
    """One command of the root: ``module.attribute`` is its Typer app (``commands``: top-level
    commands mounted as they are, else a group mounted under ``name``)."""

    name: str
    module: str
    attribute: str
    summary: str
    hidden: bool = False


COMMANDS: Final = (
    Entry("run", "run", "commands", "Run a workflow spec as a Prefect flow."),
    Entry("orchestrate", "run", "commands", "Alias of `run`."),
    Entry("cherry_aite", "run", "commands", "The seed guide's spelling of `run`.", hidden=True),
    Entry("analyze", "analyze", "commands", "Analyse a codebase with ruff, bandit, radon and "
          "taint analysis: lint, security, complexity, hotspots."),
    Entry("implement", "implement", "commands",
          "Propose changes for an analysis' findings and keep only verified ones."),
    Entry("refine", "refine", "commands",
          "Tidy formatting and imports, report type errors, review the technology stack."),
    Entry("improve", "improve", "commands",
          "Analyse, fix and tidy a repository in one run; with --publish, one pull request."),
    Entry("validate", "validate", "commands", 'Check a workflow spec without running it: prints '
          '"ok" or every problem with its line.'),
    Entry("mcp", "serve", "commands",
          "Serve the conductor's MCP tools over stdio, for Cursor, Roo Code, Claude and others."),
    Entry("serve", "serve", "commands",
          "Run the prefect.yaml deployments here, on their schedules, without a work pool."),
    Entry("deploy", "deploy", "commands", "Check prefect.yaml and the Prefect server, then "
          "`prefect --no-prompt deploy --all`."),
    Entry("findings", "findings", "findings_app",
          "Findings remembered across analysis runs, and dismissed false positives."),
    Entry("maintenance", "maintenance", "maintenance_app",
          "Maintenance jobs, each also a Prefect flow of the same name for deployments."),
    Entry("metrics", "metrics", "metrics_app",
          "Prometheus metrics for flows run by workers, deployments and the CLI."),
    Entry("context", "context", "context_app",
          "The context store: analysis summaries, findings and changes, searchable."),
    Entry("server", "server", "server_app",
          "The shared local Prefect server that local runs reuse."),
    Entry("logs", "logs", "logs_app", "Show the audit log (coordination_logs), newest first; "
          "`logs replay` writes the spool."),
)  # fmt: skip
"""Every command of ``conductor``, in the order its help lists them: commands, then groups."""
_BY_NAME: Final = {entry.name: entry for entry in COMMANDS}


def convert(entry: Entry) -> dict[str, Any]:
    """Import ``entry``'s module and convert its Typer app: every command it declares, by name
    (a module of top-level commands may declare several, e.g. ``run`` and ``orchestrate``)."""
    sub: typer.Typer = getattr(import_module(f"ai_conductor.cli.{entry.module}"), entry.attribute)
    holder = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    if entry.attribute == "commands":
        holder.add_typer(sub)
    else:
        holder.add_typer(sub, name=entry.name)
    converted: dict[str, Any] = getattr(get_command(holder), "commands", {})
    return converted


class LazyCommands(MutableMapping[str, Any]):
    """A group's ``commands``: the names of :data:`COMMANDS`; a command is converted (and
    ``prepare`` applied to it) on first lookup. Iterating the items converts them all."""

    def __init__(self, prepare: Callable[[Any], None]) -> None:
        self._prepare = prepare
        self._names = [entry.name for entry in COMMANDS]
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._loaded:
            if name not in _BY_NAME:
                raise KeyError(name)
            for found, command in convert(_BY_NAME[name]).items():
                self._prepare(command)
                self._loaded.setdefault(found, command)
        return self._loaded[name]

    def __setitem__(self, name: str, command: Any) -> None:
        if name not in self._names:
            self._names.append(name)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        self._names.remove(name)
        self._loaded.pop(name, None)

    def __contains__(self, name: object) -> bool:  # without converting the command
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._names))

    def __len__(self) -> int:
        return len(self._names)
