"""The implementer-backend registry.

Built-in backends are named in :data:`BACKENDS`; a third-party backend registers a name in the
``ai_conductor.backends`` entry-point group or is named by its import path
``package.module:Class`` (the plugin loader, ``ai_conductor._plugins``). Either way the class is
instantiated with no argument, or with ``options=`` when options are given, and must satisfy
:class:`~ai_conductor.protocols.Backend`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ai_conductor._plugins import Family, create
from ai_conductor.protocols import Backend

__all__ = ["BACKENDS", "FAMILY", "Backend", "load_backend"]

BACKENDS: dict[str, str] = {
    "builtin": "ai_conductor.implement.backends.builtin:BuiltinBackend",
    "openai": "ai_conductor.implement.backends.openai_backend:OpenAIBackend",
    "anthropic": "ai_conductor.implement.backends.anthropic_backend:AnthropicBackend",
    "command": "ai_conductor.implement.backends.command:CommandBackend",
    "fake": "ai_conductor.implement.backends.fake:FakeBackend",
}
FAMILY = Family("implementer backend", "ai_conductor.backends", BACKENDS, Backend)
"""For the plugin loader: the built-ins above, plugins, import paths."""


def load_backend(name: str, options: Mapping[str, Any] | None = None) -> Backend:
    """The backend called ``name`` (a short name, a plugin's name or ``package.module:Class``)."""
    backend: Backend = create(FAMILY, name, **({"options": dict(options)} if options else {}))
    return backend
