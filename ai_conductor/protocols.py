"""The small interfaces everything plugs into, in one place.

The component families the plugin loader (``ai_conductor._plugins``) finds by name each have
their protocol here: :class:`Agent` (built by an :class:`AgentFactory`), :class:`AnalyzerTool`,
:class:`Backend` (implementer backends), :class:`ContextStore` and :class:`Forge`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ai_conductor.analysis.toolenv import ToolPython
    from ai_conductor.analysis.tools.base import ToolResult
    from ai_conductor.context.models import BatchResult, ContextRecord, Hit, SearchFilters
    from ai_conductor.forge.models import PullRequest, PullRequestDraft, Review, ReviewResult
    from ai_conductor.implement.models import ChangeRequest, Proposal
    from ai_conductor.spec import AgentConfig, TaskSpec
    from ai_conductor.store.events import AuditEvent

AgentOutput = Mapping[str, Any]
"""What an agent returns: JSON-serialisable data, handed to dependent tasks and persisted."""


@dataclass
class TaskContext:
    """Everything an agent may know about the run it is part of."""

    workflow_id: str
    run_id: str
    task_id: str
    codebase: Path
    upstream: Mapping[str, Any] = field(default_factory=dict)
    """Outputs of the task's dependencies, by task id."""
    attempt: int = 1
    deadline: float | None = None
    """``time.monotonic()`` value by which the agent must have returned, if any."""
    cancel: threading.Event = field(default_factory=threading.Event)
    """Set when the run is being stopped; long-running agents should poll it."""
    logger: logging.Logger | logging.LoggerAdapter[logging.Logger] = field(
        default_factory=lambda: logging.getLogger("ai_conductor.agent")
    )

    def remaining(self) -> float | None:
        """Seconds left before the deadline (never negative), or None without one."""
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())


@runtime_checkable
class Agent(Protocol):
    """Executes one task. Sync or async; raise an ``AgentError`` to fail the task."""

    def execute(
        self, task: TaskSpec, context: TaskContext
    ) -> AgentOutput | Awaitable[AgentOutput]: ...


class AgentFactory(Protocol):
    """Builds an agent from its configuration (usually the agent class itself)."""

    def __call__(self, config: AgentConfig) -> Agent: ...


class AgentCatalog(Protocol):
    """What spec validation needs to know about agents."""

    def is_known(self, name: str) -> bool: ...

    def input_problems(self, name: str, inputs: Mapping[str, Any]) -> list[str]: ...


class EventSink(Protocol):
    """Where audit events go: the one chokepoint every action is recorded through."""

    def record(self, event: AuditEvent) -> None: ...


@runtime_checkable
class ContextStore(Protocol):
    """Where coordination context lives (``embedded`` SQLite FTS5, ``weaviate``, or a plugin).

    Ids are deterministic (:attr:`ContextRecord.id`): storing a record again replaces it.
    Backends raise ``StoreError`` when they cannot be reached or written.
    """

    location: str
    """Where the records are, without secrets (keys the ``context-sync`` watermark)."""

    def store(self, record: ContextRecord) -> str:
        """Store (or replace) one record; return its id."""
        ...

    def batch_store(self, records: Sequence[ContextRecord]) -> BatchResult:
        """Store many records; failures are reported per record, not raised."""
        ...

    def retrieve_context(self, workflow_id: str, limit: int = 20) -> list[ContextRecord]:
        """The workflow's records, newest first."""
        ...

    def search(
        self, query: str, k: int = 10, filters: SearchFilters | Mapping[str, Any] | None = None
    ) -> list[Hit]:
        """The ``k`` records most relevant to ``query``, best first."""
        ...

    def close(self) -> None:
        """Release connections; idempotent."""
        ...


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into vectors for hybrid search (same model for records and queries)."""

    name: str
    """Model identity; stored vectors from another model are not compared."""

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """One vector per text, in order."""
        ...


@dataclass(frozen=True)
class RunProgress:
    """Where a long implement or refine run is, for whoever shows progress (the CLI renders it
    with rich on a terminal; library code only calls the observer)."""

    phase: str
    """What is happening: ``environment``, ``changes``, ``tidy``, ``types``, ``stack``, ``done``."""
    done: int = 0
    """Changes finished (kept, discarded or failed)."""
    total: int = 0
    """Changes planned (0 while unknown)."""
    kept: int = 0
    discarded: int = 0
    """Discarded or failed."""
    current: str = ""
    """The change (group) an attempt just started on, if any."""
    attempt: int = 0
    """That attempt's number."""
    elapsed: float = 0.0
    """Seconds since the run started."""


ProgressObserver = Callable[[RunProgress], None]
"""Called from worker threads with each step; must be quick and must not raise."""


@runtime_checkable
class Forge(Protocol):
    """A code-hosting platform's pull requests: GitHub, GitLab, Gitea/Forgejo (or a plugin).

    Built for one repository by :func:`ai_conductor.forge.open_forge`. Platform errors are
    raised as ``ForgeError`` with the platform's status and message (never the token).
    """

    name: str
    """Short name: ``github``, ``gitlab``, ``gitea``."""

    def default_branch(self) -> str:
        """The repository's default branch."""
        ...

    def find_pull_request(self, head: str, base: str | None) -> PullRequest | None:
        """The open pull request from branch ``head`` (into ``base``, when given), if any."""
        ...

    def get_pull_request(self, number: int) -> PullRequest:
        """Pull request ``number`` (GitLab: the merge request's iid)."""
        ...

    def open_pull_request(self, draft: PullRequestDraft) -> PullRequest:
        """Open a pull request (title, body, labels, draft)."""
        ...

    def update_pull_request(self, number: int, draft: PullRequestDraft) -> PullRequest:
        """Set an open pull request's title, body and labels."""
        ...

    def publish_review(self, number: int, review: Review) -> ReviewResult:
        """Post the review, or bring the conductor's earlier one (found by ``review.marker``)
        up to date: its summary rewritten, inline comments kept, changed, removed or added."""
        ...

    def close(self) -> None:
        """Release connections; idempotent."""
        ...


@runtime_checkable
class AnalyzerTool(Protocol):
    """An analyzer plugin. Findings carry paths relative to ``root``; ``fingerprint`` is left
    empty (the engine computes it from the source)."""

    name: str
    per_file: bool
    """True when a file's findings depend on that file alone (so they can be cached per file
    and the tool can run on chunks in parallel); False for whole-program tools."""
    parallel: bool
    """True when running chunks in separate processes pays (slow single-threaded tools)."""

    def version(self) -> str | None:
        """The installed tool's version, or None when it is not installed."""
        ...

    def config_key(self) -> str:
        """A string that changes whenever the tool's rule selection or options change."""
        ...

    def run(self, root: Path, files: list[str]) -> ToolResult:
        """Analyse ``files`` (relative to ``root``); raise ``AnalysisToolError`` on failure."""
        ...


@runtime_checkable
class ParsesPython(Protocol):
    """A tool that reads code with the grammar of the interpreter it runs under (bandit,
    radon): the engine tells it which interpreter can parse the codebase before it runs, and
    its ``config_key`` includes that interpreter's version.

    Optional attributes of any tool: ``in_subprocess = True`` when its work runs in child
    processes (the engine then runs its chunks on threads, not in a process pool)."""

    def use_python(self, python: ToolPython) -> None: ...


@runtime_checkable
class Backend(Protocol):
    """An implementer backend, something that fixes findings: an analyzer's own fixes, an LLM,
    a command, a fake."""

    name: str

    def propose(self, request: ChangeRequest, workspace: Path, feedback: str | None) -> Proposal:
        """Fix ``request`` in ``workspace`` (a disposable copy of the codebase).

        ``feedback`` says why the previous attempt was rejected (None on the first attempt).
        A backend may change files in ``workspace`` itself and return a proposal without
        edits, or return edits for the gate to apply. Failures raise ``AgentError`` subclasses.
        """
        ...
