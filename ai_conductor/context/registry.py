"""The context-store registry: ``open_context_store()`` picks the backend from settings.

Built-in stores are named in :data:`STORES`; a third-party store registers a name in the
``ai_conductor.context_stores`` entry-point group or is named by its import path
``package.module:factory`` (the plugin loader, ``ai_conductor._plugins``). A factory is called
as ``factory(settings, embedder=...)`` and must return a
:class:`~ai_conductor.protocols.ContextStore`.
"""

from __future__ import annotations

from typing import Final

from ai_conductor._plugins import Family, checked, load
from ai_conductor.context.embeddings import embedder_from_settings
from ai_conductor.protocols import ContextStore, Embedder
from ai_conductor.settings import Settings, get_settings

STORES: Final[dict[str, str]] = {
    "embedded": "ai_conductor.context.registry:embedded_store",
    "weaviate": "ai_conductor.context.weaviate_store:WeaviateStore.from_settings",
}
FAMILY: Final = Family(
    "context store", "ai_conductor.context_stores", STORES, ContextStore, factory=True,
    origin="in CONDUCTOR_CONTEXT_STORE",
)  # fmt: skip
"""For the plugin loader: the built-ins above, plugins, import paths."""


class _FromSettings:
    """Marker: take the embedder from the settings."""


FROM_SETTINGS: Final = _FromSettings()


def embedded_store(settings: Settings, *, embedder: Embedder | None = None) -> ContextStore:
    """The embedded store at ``$CONDUCTOR_HOME/context.db``."""
    from ai_conductor.context.embedded import EmbeddedStore

    return EmbeddedStore(settings.home_dir / "context.db", embedder=embedder)


def open_context_store(
    settings: Settings | None = None, *, embedder: Embedder | _FromSettings | None = FROM_SETTINGS
) -> ContextStore:
    """The context store ``settings.context_store`` names (default: the environment's).

    ``embedder`` overrides the configured embedding backend (``None``: full-text only); by
    default it comes from ``embedding_base_url`` / ``embedding_model``. Close the store after use.
    """
    settings = settings or get_settings()
    factory = load(FAMILY, settings.context_store)
    chosen = embedder_from_settings(settings) if isinstance(embedder, _FromSettings) else embedder
    store: ContextStore = checked(
        FAMILY, settings.context_store, factory(settings, embedder=chosen)
    )
    return store
