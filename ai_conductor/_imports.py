"""Loading a plugin class named ``package.module:Class``, as the registries do."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ai_conductor.errors import UsageError


def import_factory(target: str, unknown: Callable[[str], UsageError]) -> Any:
    """The attribute ``target`` (``module:attr``) names; ``unknown(why)`` is raised when the
    module cannot be imported or lacks the attribute."""
    module_name, _, class_name = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), class_name)
    except ImportError as exc:
        raise unknown(f"cannot import {module_name}: {exc}") from exc
    except AttributeError as exc:
        raise unknown(f"{module_name} has no attribute {class_name!r}") from exc
