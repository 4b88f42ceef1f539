"""The context store: what happened in earlier runs, searchable by agents and people.

``open_context_store()`` returns the backend ``CONDUCTOR_CONTEXT_STORE`` names (``embedded``:
SQLite FTS5 under ``$CONDUCTOR_HOME``; ``weaviate``: the ``CoordinationContext`` collection).
``sync_context()`` copies new audit-log events and findings into it (the ``context-sync`` job);
``init_collection()`` creates or migrates the Weaviate collection (``weaviate-init``).
"""

from __future__ import annotations

from ai_conductor.context.models import (
    CONTEXT_TYPES,
    BatchResult,
    ContextRecord,
    FailedRecord,
    Hit,
    SearchFilters,
)
from ai_conductor.context.registry import STORES, open_context_store
from ai_conductor.context.sync import SyncResult, sync_context
from ai_conductor.context.weaviate_schema import InitResult, init_collection
from ai_conductor.protocols import ContextStore, Embedder

__all__ = [
    "CONTEXT_TYPES",
    "STORES",
    "BatchResult",
    "ContextRecord",
    "ContextStore",
    "Embedder",
    "FailedRecord",
    "Hit",
    "InitResult",
    "SearchFilters",
    "SyncResult",
    "init_collection",
    "open_context_store",
    "sync_context",
]
