"""The implementer-backend registry.

Built-in backends are named in :data:`BACKENDS`; a third-party backend is named by its import
path ``package.module:Class``. Either way the class is instantiated with no argument, or with
``options=`` when options are given, and must satisfy :class:`Backend`.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import Any

from ai_conductor._imports import import_factory
from ai_conductor.errors import UsageError
from ai_conductor.implement.backends.base import Backend

__all__ = ["BACKENDS", "Backend", "load_backend"]

BACKENDS: dict[str, str] = {
    "builtin": "ai_conductor.implement.backends.builtin:BuiltinBackend",
    "openai": "ai_conductor.implement.backends.openai_backend:OpenAIBackend",
    "anthropic": "ai_conductor.implement.backends.anthropic_backend:AnthropicBackend",
    "command": "ai_conductor.implement.backends.command:CommandBackend",
    "fake": "ai_conductor.implement.backends.fake:FakeBackend",
}


def _unknown(name: str, why: str) -> UsageError:
    known = ", ".join(BACKENDS)
    return UsageError(
        f"unknown implementer backend {name!r} ({why}); choose from: {known}, "
        "or give a backend's import path 'package.module:Class'"
    )


def load_backend(name: str, options: Mapping[str, Any] | None = None) -> Backend:
    """The backend called ``name`` (a short name or ``package.module:Class``)."""
    key = name.strip().lower()
    target = BACKENDS.get(key) if ":" not in name else name.strip()
    if target is None:
        raise _unknown(name, "not a built-in backend")
    factory = import_factory(target, lambda why: _unknown(name, why))
    not_a_backend = UsageError(
        f"{target} is not an implementer backend: it needs name and "
        "propose(request, workspace, feedback)"
    )
    # checked before calling: ``os:abort`` or ``tempfile:mkdtemp`` would run when called
    backend_class = inspect.isclass(factory) and callable(getattr(factory, "propose", None))
    if not backend_class:
        raise not_a_backend
    backend = factory(options=dict(options)) if options else factory()
    if not isinstance(backend, Backend):
        raise not_a_backend
    return backend
