"""Live progress of implement and refine on a terminal (rich), nothing when piped or --json."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from ai_conductor.protocols import ProgressObserver, RunProgress


def status_line(p: RunProgress) -> str:
    """``kept 2 · discarded 1 · file:a.py attempt 2``: what the bar does not show."""
    now = f" · {p.current} attempt {p.attempt}" if p.current else ""
    return f"kept {p.kept} · discarded {p.discarded}{now}"


@contextmanager
def live_progress(as_json: bool, what: str) -> Iterator[ProgressObserver | None]:
    """An observer drawing a progress bar on stderr while the block runs; None (no output)
    when stderr is not a terminal or JSON was asked for."""
    console = Console(stderr=True)
    if as_json or not sys.stderr.isatty() or not console.is_terminal:
        yield None
        return
    bar = Progress(
        SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
        MofNCompleteColumn(), TextColumn("{task.fields[status]}"), TimeElapsedColumn(),
        console=console, transient=True,
    )  # fmt: skip
    task = bar.add_task(what, total=None, status="")

    def observe(p: RunProgress) -> None:
        bar.update(task, description=f"{what}: {p.phase}", total=p.total or None,
                   completed=p.done, status=Text(status_line(p)))  # fmt: skip

    with bar:
        yield observe
