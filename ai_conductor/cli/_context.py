"""The work of ``conductor context search`` (cli/context.py): search, then a table or JSON."""

from __future__ import annotations

import json
import sys

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ai_conductor.cli._errors import show
from ai_conductor.errors import ConductorError

err = Console(stderr=True)


def run_search(query: str, *, workflow: str | None, k: int, as_json: bool) -> int:
    """Print the ``k`` best matches of ``query``; return the exit code.

    A rich table goes to stderr on a terminal; JSON (a list of hits) goes to stdout when
    ``as_json`` or when stdout is not a terminal. 0: done (also with no hits); 2: bad input;
    3: the store failed.
    """
    from ai_conductor.context import open_context_store

    try:
        if not query.strip():
            from ai_conductor.errors import UsageError

            raise UsageError("give a search query, e.g. conductor context search 'sql injection'")
        filters = {"workflow_id": workflow} if workflow else None
        store = open_context_store()
        try:
            hits = store.search(query, k=k, filters=filters)
        finally:
            store.close()
    except ConductorError as exc:
        return show(exc, err)
    if as_json or not sys.stdout.isatty():
        sys.stdout.write(json.dumps([h.model_dump(mode="json") for h in hits], indent=2) + "\n")
        return 0
    if not hits:
        err.print("no context matches (run `conductor maintenance context-sync` to fill it)")
        return 0
    table = Table(title=f"context matching {query!r}", show_lines=False)
    for column in ("score", "type", "workflow", "task", "when", "content"):
        table.add_column(column, overflow="fold")
    for hit in hits:
        r = hit.record
        table.add_row(
            f"{hit.score:.3g}", r.context_type, escape(r.workflow_id), escape(r.task_id or ""),
            r.timestamp.strftime("%Y-%m-%d %H:%M"), escape(r.content[:300]),
        )  # fmt: skip
    err.print(table)
    return 0
