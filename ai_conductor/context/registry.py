"""The context-store registry: ``open_context_store()`` picks the backend from settings.

Built-in stores are named in :data:`STORES`; a third-party store is named by its import path
``package.module:factory``. A factory is called as ``factory(settings, embedder=...)`` and
must return a :class:`~ai_conductor.protocols.ContextStore`.
"""

from __future__ import annotations

import importlib
from typing import Final

from ai_conductor.context.embeddings import embedder_from_settings
from ai_conductor.errors import ConfigError
from ai_conductor.protocols import ContextStore, Embedder
from ai_conductor.settings import Settings, get_settings

STORES: Final[dict[str, str]] = {
    "embedded": "ai_conductor.context.registry:embedded_store",
    "weaviate": "ai_conductor.context.weaviate_store:WeaviateStore.from_settings",
}


class _FromSettings:
    """Marker: take the embedder from the settings."""


FROM_SETTINGS: Final = _FromSettings()


def _unknown(name: str, why: str) -> ConfigError:
    return ConfigError(
        f"unknown context store {name!r} in CONDUCTOR_CONTEXT_STORE ({why}); choose from: "
        f"{', '.join(STORES)}, or give a store factory's import path 'package.module:factory'"
    )


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
    name = settings.context_store.strip()
    target = name if ":" in name else STORES.get(name.lower())
    if target is None:
        raise _unknown(name, "not a built-in store")
    module_name, _, attr_path = target.partition(":")
    try:
        factory: object = importlib.import_module(module_name)
        for attr in attr_path.split("."):
            factory = getattr(factory, attr)
    except ImportError as exc:
        raise _unknown(name, f"cannot import {module_name}: {exc}") from exc
    except AttributeError as exc:
        raise _unknown(name, f"{module_name} has no attribute {attr_path!r}") from exc
    chosen = embedder_from_settings(settings) if isinstance(embedder, _FromSettings) else embedder
    if not callable(factory):
        raise _unknown(name, f"{target} is not callable")
    store = factory(settings, embedder=chosen)
    if not isinstance(store, ContextStore):
        raise ConfigError(
            f"{target} did not return a context store: it needs location, store, batch_store, "
            "retrieve_context, search and close"
        )
    return store
