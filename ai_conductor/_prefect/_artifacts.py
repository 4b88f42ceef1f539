"""Prefect artifacts: Markdown, tables and links attached to the current flow or task run."""

from __future__ import annotations

from typing import Any


def markdown_artifact(markdown: str, *, key: str, description: str) -> None:
    """A keyed Markdown artifact of the current run."""
    from prefect.artifacts import create_markdown_artifact

    create_markdown_artifact(markdown, key=key, description=description)


def table_artifact(rows: list[dict[str, Any]], *, key: str, description: str) -> None:
    """A keyed table artifact of the current run."""
    from prefect.artifacts import create_table_artifact

    create_table_artifact(table=rows, key=key, description=description)


def link_artifact(link: str, *, text: str, key: str, description: str) -> None:
    """A keyed link artifact of the current run."""
    from prefect.artifacts import create_link_artifact

    create_link_artifact(link=link, link_text=text, key=key, description=description)


def publish_change_artifacts(
    key: str, *, markdown: str, rows: list[dict[str, Any]], link: tuple[str, str] | None,
    description: str,
) -> list[str]:  # fmt: skip
    """Keyed artifacts of an implement or refine step: ``<key>-summary`` (Markdown),
    ``<key>-changes`` (table) and, when a pull request was published, ``<key>-pull-request``
    (a link). ``key`` must already be a valid artifact key. Returns the keys."""
    markdown_artifact(markdown, key=f"{key}-summary", description=description)
    table_artifact(rows or [{"group": "", "status": "no changes", "branch": "",
                             "pull_request": "", "reason": ""}],
                   key=f"{key}-changes", description=description)  # fmt: skip
    keys = [f"{key}-summary", f"{key}-changes"]
    if link is not None:
        link_artifact(link[0], text=link[1], key=f"{key}-pull-request", description=description)
        keys.append(f"{key}-pull-request")
    return keys
