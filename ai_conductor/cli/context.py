"""``conductor context search``: the context store (what earlier runs found and did)."""

from __future__ import annotations

from typing import Annotated

import typer

from ai_conductor.cli._errors import group

context_app = group("The context store: analysis summaries, findings and changes, searchable.")


@context_app.command("search")
def context_search(
    query: Annotated[str, typer.Argument(help="Words to look for.", show_default=False)],
    workflow: Annotated[str | None, typer.Option(help="Only this workflow id.")] = None,
    k: Annotated[int, typer.Option("--k", "-k", min=1, max=1000, help="Results.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="JSON on stdout.")] = False,
) -> None:
    """Search the context store (embedded full-text by default; Weaviate when configured).

    What is in it: analysis summaries, findings and dismissals, kept and rejected changes with
    their reasons (`conductor maintenance context-sync` copies them from the audit log).
    """
    from ai_conductor.cli._context import run_search

    raise typer.Exit(run_search(query, workflow=workflow, k=k, as_json=as_json))
