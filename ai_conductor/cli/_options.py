"""Options several commands share, and the choices options accept (as Enums: ``--help`` and
Typer check them; a bad value exits 2 naming the choices)."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ai_conductor.errors import UsageError

if TYPE_CHECKING:
    from ai_conductor.cli._publish import PublishFlags


class ReportFormat(StrEnum):
    """``analyze --format``: ai_conductor.reports.FORMATS."""

    json = "json"
    sarif = "sarif"
    markdown = "markdown"
    html = "html"


class FailOn(StrEnum):
    """``analyze --fail-on``: ai_conductor.analysis.gate.FAIL_LEVELS, most severe first."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    none = "none"


class Severity(StrEnum):
    """``--severity``, ``--min-severity``: ai_conductor.analysis.models.Severity."""

    critical = "critical"
    high = "high"
    medium = "medium"
    low = "low"
    info = "info"


class FindingStatus(StrEnum):
    """``findings list --status``: ai_conductor.analysis.models.FindingStatus."""

    new = "new"
    existing = "existing"
    fixed = "fixed"


class GroupBy(StrEnum):
    """``implement --group-by``: one change per file or per rule."""

    file = "file"
    rule = "rule"


class TestEnv(StrEnum):
    """``--test-env``: ai_conductor.environment.resolve.TEST_ENVS."""

    __test__ = False  # not a pytest test class
    auto = "auto"
    isolated = "isolated"
    tox = "tox"
    nox = "nox"


class Forge(StrEnum):
    """``--forge``: the forges publishing talks to (Forgejo speaks Gitea's API)."""

    github = "github"
    gitlab = "gitlab"
    gitea = "gitea"


def value(choice: StrEnum | None) -> str | None:
    """The plain string the library takes (None stays None)."""
    return None if choice is None else choice.value


ConfigOpt = Annotated[
    Path, typer.Option("--config", "-c", help="Workflow spec, YAML or JSON.", show_default=False)
]
CodebaseOpt = Annotated[
    Path | None,
    typer.Option(help="Codebase to run against (default: the spec's 'codebase', else '.')."),
]
FreshOpt = Annotated[
    bool, typer.Option("--fresh", help="Ignore results of earlier runs; execute every task.")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON (no live view).")]
VerboseOpt = Annotated[bool, typer.Option("--verbose", "-v", help="Show Prefect's own logs.")]
TestEnvOpt = Annotated[
    TestEnv,
    typer.Option(
        help="Where the tests run: auto (explicit command > .venv/venv > uv/poetry/hatch/pdm > "
        "an isolated environment built under $CONDUCTOR_HOME/envs), isolated, tox or nox."
    ),
]
PublishOpt = Annotated[
    bool,
    typer.Option(
        "--publish",
        help="Push the kept changes (one commit each) to one branch conductor/<workflow>/<task> "
        "on --remote and open a pull request, or update the open one (see docs/publishing.md).",
    ),
]
RemoteOpt = Annotated[str, typer.Option(help="The git remote --publish pushes to.")]
DraftOpt = Annotated[bool, typer.Option("--draft", help="Open the pull request as a draft.")]
ForgeOpt = Annotated[
    Forge | None,
    typer.Option(help="github, gitlab or gitea (Forgejo too); default: from the remote's URL."),
]
LabelOpt = Annotated[
    list[str] | None,
    typer.Option("--label", help="Label of the pull request (repeatable; default ai-conductor)."),
]
AllowApiOpt = Annotated[
    bool,
    typer.Option(
        "--allow-api-changes",
        help="Keep changes that remove public module-level names (discarded by default).",
    ),
]


def publishing(publish: bool, remote: str, draft: bool, forge: Forge | None,
               labels: list[str] | None) -> PublishFlags:  # fmt: skip
    """The --publish options, checked: the others go with --publish."""
    from ai_conductor.cli._publish import PublishFlags

    if not publish and (draft or forge or labels or remote != "origin"):
        raise UsageError("--remote, --draft, --forge and --label go with --publish")
    return PublishFlags(publish, remote, draft, value(forge), labels or [])


def key_values(items: list[str], flag: str) -> dict[str, object]:
    """``KEY=VALUE`` pairs; VALUE decoded as JSON when it parses, else kept as text."""
    out: dict[str, object] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"{flag} {item!r}: expected KEY=VALUE, e.g. {flag} timeout=120")
        try:
            out[key.strip()] = json.loads(text)
        except ValueError:
            out[key.strip()] = text
    return out
