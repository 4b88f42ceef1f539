"""What the context store keeps: :class:`ContextRecord` (the seed's ``CoordinationContext``
properties), search hits, and the results of batch writes, collection set-up and syncs.

Record ids are deterministic: ``uuid5(NAMESPACE_DNS, key)``, the same value as Weaviate's
``generate_uuid5(key)``, so storing a record again updates it instead of duplicating it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ai_conductor.errors import UsageError

CONTEXT_TYPES: Final = (
    "analysis_summary",
    "finding",
    "change_kept",
    "change_rejected",
    "dismissal",
)
"""The context types the product writes; others are allowed (``[a-z0-9_]+``)."""


def _now() -> datetime:
    return datetime.now(UTC)


class ContextRecord(BaseModel):
    """One piece of coordination context: what happened, in words an agent can search."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str = Field(min_length=1, max_length=255)
    """The workflow (or ``analysis:<codebase>``) the record belongs to."""
    task_id: str | None = Field(default=None, max_length=255)
    """The task that produced it, when there is one."""
    context_type: str = Field(pattern=r"^[a-z0-9_]{1,64}$")
    """Kind of record, e.g. ``finding``, ``change_kept`` (see :data:`CONTEXT_TYPES`)."""
    content: str = Field(min_length=1)
    """The searchable text."""
    metadata: dict[str, Any] = Field(default_factory=dict)
    """JSON-serialisable details (fingerprints, files, run ids, reasons)."""
    timestamp: datetime = Field(default_factory=_now)
    """When it happened (stored as UTC)."""
    key: str | None = Field(default=None, min_length=1, max_length=1024)
    """Explicit stable identity; default: workflow, task, type and a hash of the content."""

    @field_validator("timestamp")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @property
    def stable_key(self) -> str:
        """The string the id is derived from."""
        if self.key is not None:
            return self.key
        digest = hashlib.sha256(self.content.encode("utf-8")).hexdigest()
        return f"{self.workflow_id}/{self.task_id or ''}/{self.context_type}/{digest}"

    @property
    def id(self) -> str:
        """Deterministic: ``uuid5(NAMESPACE_DNS, stable_key)`` (Weaviate's ``generate_uuid5``)."""
        return str(uuid.uuid5(uuid.NAMESPACE_DNS, self.stable_key))


class SearchFilters(BaseModel):
    """Exact-match filters of :meth:`ContextStore.search`; unset fields match everything."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    workflow_id: str | None = None
    """Only records of this workflow."""
    task_id: str | None = None
    """Only records of this task."""
    context_type: str | None = None
    """Only records of this type."""

    @classmethod
    def of(cls, filters: SearchFilters | Mapping[str, Any] | None) -> SearchFilters:
        """``filters`` as a :class:`SearchFilters`; :class:`UsageError` for unknown keys."""
        if filters is None:
            return cls()
        if isinstance(filters, SearchFilters):
            return filters
        try:
            return cls.model_validate(dict(filters))
        except ValidationError as exc:
            bad = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise UsageError(
                f"bad search filters ({bad}); allowed: workflow_id, task_id, context_type"
            ) from None

    def items(self) -> list[tuple[str, str]]:
        """The set filters as (property, value) pairs."""
        return [(k, v) for k, v in self.model_dump().items() if v is not None]


class Hit(BaseModel):
    """One search result; a higher ``score`` is better (its scale depends on the backend)."""

    model_config = ConfigDict(frozen=True)

    id: str
    """The record's id."""
    score: float
    """BM25 (full text) or reciprocal-rank-fusion score (hybrid)."""
    record: ContextRecord
    """The record found."""


class FailedRecord(BaseModel):
    """A record a batch write could not store, and why."""

    model_config = ConfigDict(frozen=True)

    index: int
    """Position in the batch given to ``batch_store``."""
    id: str
    """The record's id."""
    reason: str
    """What the backend said."""


class BatchResult(BaseModel):
    """Outcome of ``batch_store``: ids stored, and the records that failed with reasons."""

    stored: list[str] = Field(default_factory=list)
    """Ids of the records stored (or already present unchanged)."""
    failed: list[FailedRecord] = Field(default_factory=list)
    """Records refused, with the backend's reason."""

    @property
    def ok(self) -> bool:
        """True when nothing failed."""
        return not self.failed
