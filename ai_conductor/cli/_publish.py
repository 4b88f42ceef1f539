"""`--publish` for implement and refine: the options, the call, and what is printed."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from ai_conductor.publish.models import Publication, PublishOptions, PublishResult


@dataclass
class PublishFlags:
    """What the command line said about publishing."""

    publish: bool = False
    remote: str = "origin"
    draft: bool = False
    forge: str | None = None
    labels: list[str] = field(default_factory=list)

    def options(self) -> PublishOptions:
        extra = {"labels": self.labels} if self.labels else {}
        return PublishOptions(remote=self.remote, draft=self.draft, forge=self.forge, **extra)


def run_publish(repo: Path, publication: Publication, flags: PublishFlags) -> PublishResult:
    from ai_conductor.publish.publisher import publish

    return publish(repo, publication, flags.options())


def print_published(err: Console, result: PublishResult) -> None:
    pr = result.pull_request
    if pr is None:
        err.print(f"published nothing: {escape(result.note)}", highlight=False)
    else:
        how = "pushed" if result.pushed else "branch unchanged"
        err.print(f"[bold]pull request {result.status}:[/] {escape(pr.url)} "
                  f"({len(result.commits)} commit(s) on {escape(result.branch)} into "
                  f"{escape(result.base)}; {how})", highlight=False)  # fmt: skip
    for group, why in result.left_out.items():
        err.print(f"[yellow]left out:[/] {escape(group)}: {escape(why)}", highlight=False)
