"""``conductor findings``: the findings remembered across analysis runs, and dismissals.

Help text here is the user documentation.
"""

from __future__ import annotations

import json
import re
import sys
from typing import TYPE_CHECKING, Annotated, Any, Final

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from ai_conductor._paths import expand_user
from ai_conductor.cli._errors import group
from ai_conductor.cli._options import FindingStatus, Severity, value
from ai_conductor.cli._output import findings_view, flat
from ai_conductor.errors import UsageError

if TYPE_CHECKING:
    from ai_conductor.analysis.memory import Dismissal, FindingsMemory
    from ai_conductor.analysis.models import Finding

findings_app = group(
    "Findings remembered across analysis runs, and dismissed false positives.\n\n"
    "Every analysis stores its findings in the audit database (CONDUCTOR_DATABASE_URL, default "
    "$CONDUCTOR_HOME/conductor.db). Each finding has a stable fingerprint that survives lines "
    "moving; a report marks findings 'new' or 'existing' (also in the previous run of the same "
    "codebase) and lists the previous run's findings that are gone as 'fixed'. A dismissed "
    "fingerprint stays out of every later report until it is undismissed."
)
err = Console(stderr=True)

MIN_PREFIX: Final = 8
_FULL_FINGERPRINT: Final = re.compile(r"[0-9a-f]{32,64}")
FINDING_COLUMNS: Final = ("fingerprint", "severity", "status", "category", "rule", "location")
DISMISSAL_COLUMNS: Final = ("fingerprint", "dismissed", "by", "reason", "finding")


def _memory() -> FindingsMemory:
    from ai_conductor.analysis.memory import FindingsMemory
    from ai_conductor.settings import get_settings

    return FindingsMemory.open(get_settings())


def codebase_id(value: str) -> str:
    """An existing path as its absolute path (the id of local analyses), anything else as is."""
    path = expand_user(value)
    return str(path.resolve()) if path.exists() else value


def _describe(finding: Finding | None) -> str:
    if finding is None:
        return "(not in any stored run)"
    rule = f"{finding.tool}:{finding.rule_id}"
    return f"{finding.severity.value} {rule} at {finding.path}:{finding.line}: {finding.message}"


def _finding_cells(f: Finding) -> list[str]:
    rule = f"{f.tool}:{f.rule_id}" + (f" ({f.rule_name})" if f.rule_name else "")
    location = f"{f.path}:{f.line}"
    return [f.fingerprint, f.severity.value, f.status.value, f.category.value, rule, location]


def _dismissal_cells(d: Dismissal) -> list[str]:
    where = f"{d.finding.rule_id} at {d.finding.path}:{d.finding.line}" if d.finding else ""
    when = d.created_at.isoformat(timespec="seconds")
    return [d.fingerprint, when, d.dismissed_by or "", d.reason, where]


def _terminal() -> bool:
    return sys.stdout.isatty()


def _print_findings(found: list[Finding], console: Console | None = None) -> None:
    if not _terminal() and console is None:  # piped: one tab-separated line per finding
        typer.echo("\t".join((*FINDING_COLUMNS, "message")))
        for f in found:
            typer.echo("\t".join(flat(c) for c in (*_finding_cells(f), f.message)))
        return
    if not found:
        err.print("no findings match (run `conductor analyze` to store some)")
        return
    console = console or Console()
    title = f"{len(found)} finding(s), most severe first (--json for every detail)"
    console.print(findings_view(found, console.width, title=title))


def _print_dismissals(dismissed: list[Dismissal], console: Console | None = None) -> None:
    if not _terminal() and console is None:
        typer.echo("\t".join(DISMISSAL_COLUMNS))
        for d in dismissed:
            typer.echo("\t".join(flat(c) for c in _dismissal_cells(d)))
        return
    if not dismissed:
        err.print("nothing is dismissed")
        return
    console = console or Console()
    table = Table(title=f"{len(dismissed)} dismissal(s) (--json for every detail)",
                  title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  collapse_padding=True, expand=True, width=console.width)  # fmt: skip
    for column, size in (("fingerprint", 11), ("dismissed", 10), ("by", 10)):
        table.add_column(column, no_wrap=True, width=size, overflow="ellipsis")
    for column in ("reason", "finding"):
        table.add_column(column, no_wrap=True, overflow="ellipsis", ratio=1)
    for d in dismissed:
        fp, when, by, reason, where = _dismissal_cells(d)
        table.add_row(fp[:10], when[:10], Text(by), Text(flat(reason)), Text(flat(where)))
    console.print(table)


@findings_app.command("list")
def list_findings(
    codebase: Annotated[
        str | None,
        typer.Option(help="Codebase path (made absolute) or id, e.g. 'git-url#branch'."),
    ] = None,
    run_id: Annotated[
        str | None, typer.Option("--run", help="This run instead of the latest one.")
    ] = None,
    severity: Annotated[
        Severity | None,
        typer.Option(help="Only this severity: critical, high, medium, low, info."),
    ] = None,
    status: Annotated[
        FindingStatus | None,
        typer.Option(help="Only new or existing ones (or fixed: gone since the previous run)."),
    ] = None,
    dismissed: Annotated[
        bool, typer.Option("--dismissed", help="List the dismissals instead (other filters off).")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=100_000, help="At most this many.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON array.")] = False,
) -> None:
    """List the findings of the latest stored run (of --codebase if given), in the report's
    order (most severe first). Findings dismissed before that run are not in it.

    A table on a terminal, tab-separated lines (with a header) when piped, a JSON array of
    findings (or dismissals) with --json.
    """
    memory = _memory()
    if dismissed:
        dismissals = list(memory.dismissed().values())[:limit]
    else:
        found = memory.findings(
            run_id=run_id,
            codebase_id=codebase_id(codebase) if codebase else None,
            severity=value(severity),
            status=value(status),
            limit=limit,
        )
    if as_json:
        items: list[Any] = dismissals if dismissed else found
        typer.echo(json.dumps([i.model_dump(mode="json") for i in items], indent=2))
    elif dismissed:
        _print_dismissals(dismissals)
    else:
        _print_findings(found)


def _resolve(memory: FindingsMemory, fingerprint: str) -> tuple[str, Finding | None]:
    """The full fingerprint a prefix stands for, and its latest stored finding."""
    prefix = fingerprint.strip()
    if len(prefix) < MIN_PREFIX:
        raise UsageError(
            f"give at least {MIN_PREFIX} characters of the fingerprint, got {prefix!r} "
            "(`conductor findings list` shows them)"
        )
    finding = memory.find(prefix)
    if finding is not None:
        return finding.fingerprint, finding
    if _FULL_FINGERPRINT.fullmatch(prefix):
        return prefix, None  # a full fingerprint may be dismissed before any run stored it
    raise UsageError(
        f"no stored finding has a fingerprint starting with {prefix!r}; "
        "`conductor findings list` shows them"
    )


@findings_app.command()
def dismiss(
    fingerprint: Annotated[
        str,
        typer.Argument(help="The finding's fingerprint, or a unique prefix of 8+ characters."),
    ],
    reason: Annotated[
        str, typer.Option("--reason", "-r", help="Why (e.g. 'false positive: input is trusted').")
    ],
    by: Annotated[str | None, typer.Option("--by", help="Who dismissed it.")] = None,
) -> None:
    """Keep a finding out of every later report (it counts as 'dismissed' in the summary).

    Dismissing again replaces the reason. Undo with `conductor findings undismiss`.
    """
    memory = _memory()
    full, finding = _resolve(memory, fingerprint)
    done = memory.dismiss(full, reason, by=by, finding=finding)
    typer.echo(f"dismissed {done.fingerprint}: {_describe(done.finding or finding)}")
    typer.echo(
        f"  reason: {done.reason}" + (f" (by {done.dismissed_by})" if done.dismissed_by else "")
    )


def _dismissed_match(dismissed: dict[str, Dismissal], fingerprint: str) -> str | None:
    fingerprint = fingerprint.strip()
    if fingerprint in dismissed:
        return fingerprint
    if len(fingerprint) < MIN_PREFIX:
        return None
    found = sorted(fp for fp in dismissed if fp.startswith(fingerprint))
    if len(found) > 1:
        raise UsageError(f"{fingerprint!r} is ambiguous: it matches {', '.join(found[:10])}")
    return found[0] if found else None


@findings_app.command()
def undismiss(
    fingerprint: Annotated[
        str,
        typer.Argument(help="A dismissed fingerprint, or a unique prefix of 8+ characters."),
    ],
) -> None:
    """Report a dismissed finding again, from the next analysis on (exit 2 if not dismissed)."""
    memory = _memory()
    full = _dismissed_match(memory.dismissed(), fingerprint)
    if full is None or not memory.undismiss(full):
        raise UsageError(
            f"{fingerprint.strip()!r} is not dismissed "
            "(`conductor findings list --dismissed` shows what is)"
        )
    typer.echo(f"undismissed {full}: later analyses report it again")
