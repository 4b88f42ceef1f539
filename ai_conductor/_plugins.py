"""The one plugin loader: every component family (agents, analyzer tools, implementer backends,
context stores, forges) is found the same way.

A name is, in this order: a ``package.module:Attr`` import path (it has a colon), a name a
distribution registers in the family's entry-point group (it replaces a built-in of the same
name), or a built-in short name. Built-ins are ``"module:Attr"`` strings, so nothing is imported
until one is chosen. What a name loads must have the family's protocol (from
``ai_conductor.protocols``): a class is checked before it is called (naming ``os:abort`` must not
run it), the object built from it after. Every failure is an ``UnknownPluginError`` (exit 2)
naming the family, the name, the known names and how to fix it. See docs/extending.md.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from ai_conductor.errors import UnknownPluginError


@dataclass(frozen=True)
class Family:
    """One kind of pluggable component."""

    noun: str
    """What one is called in messages: ``analyzer tool``."""
    group: str
    """The entry-point group plugins register names in: ``ai_conductor.analyzer_tools``."""
    builtins: Mapping[str, str]
    """Short name -> ``"module:Attr"``."""
    protocol: type
    """The Protocol what a name loads (or builds) must satisfy."""
    factory: bool = False
    """True: any callable that builds the component (a function, a classmethod); False: a class
    with the protocol's methods."""
    loose: bool = True
    """Short names ignore case and surrounding blanks."""
    origin: str = ""
    """Where names come from, for messages: ``in CONDUCTOR_CONTEXT_STORE``."""
    hints: Mapping[str, str] = field(default_factory=dict)
    """Short name -> how to install what it needs, shown when it cannot be imported."""
    error: type[UnknownPluginError] = UnknownPluginError


@functools.cache
def _entry_points(group: str) -> dict[str, str]:
    return {ep.name: f"{ep.module}:{ep.attr}" for ep in entry_points(group=group)}


def refresh() -> None:
    """Forget the entry points read so far (after installing a plugin in this process)."""
    _entry_points.cache_clear()


def names(family: Family) -> dict[str, str]:
    """Every short name of ``family``, built-ins first, with the ``module:Attr`` it loads."""
    return {**family.builtins, **_entry_points(family.group)}


def _target(family: Family, name: str) -> str | None:
    key = name.strip() if family.loose else name
    if ":" in key:
        return key
    known = names(family)
    return known.get(key) or (known.get(key.lower()) if family.loose else None)


def _members(protocol: type) -> tuple[list[str], list[str]]:
    """The protocol's data attributes and methods."""
    data = [n for n in vars(protocol).get("__annotations__", {}) if not n.startswith("_")]
    methods = [n for n, v in vars(protocol).items() if callable(v) and not n.startswith("_")]
    return data, methods


def fail(family: Family, name: str, why: str, *, head: str = "cannot load") -> UnknownPluginError:
    """The one error of the loader: what failed, then what would work."""
    hint = family.hints.get(name.strip().lower(), "")
    path = "Factory" if family.factory else "Class"
    return family.error(
        f"{head} {family.noun} {name!r}{' ' + family.origin if family.origin else ''} ({why})"
        f"{': ' + hint if hint else ''}; known {family.noun}s: {', '.join(names(family))}; "
        f"a plugin adds one to the entry-point group '{family.group}', or give an import path "
        f"'package.module:{path}'"
    )


def _import(family: Family, name: str, target: str) -> Any:
    module_name, _, attr = target.partition(":")
    try:
        obj: Any = importlib.import_module(module_name)
    except Exception as exc:  # ImportError, ValueError (':x') or what the module raises
        raise fail(family, name, f"cannot import {module_name}: {exc}") from None
    for part in attr.split(".") if attr else ():
        if not hasattr(obj, part):
            raise fail(family, name, f"{module_name} has no attribute {attr!r}")
        obj = getattr(obj, part)
    return obj


def _wrong_shape(family: Family, name: str, target: str) -> UnknownPluginError:
    data, methods = _members(family.protocol)
    needs = ", ".join([*data, *(f"{m}()" for m in methods)])
    article = "an" if family.noun[0] in "aeiou" else "a"
    return fail(family, name, f"{target} is not {article} {family.noun}: it needs {needs}")


def load(family: Family, name: str) -> Any:
    """The class (or factory) ``name`` stands for, checked before anything calls it."""
    target = _target(family, name)
    if target is None:
        raise fail(family, name, f"not a built-in or plugin {family.noun}", head="unknown")
    obj = _import(family, name, target)
    _, methods = _members(family.protocol)
    if family.factory:
        fits = callable(obj)
    else:
        fits = inspect.isclass(obj) and all(callable(getattr(obj, m, None)) for m in methods)
    if not fits:
        raise _wrong_shape(family, name, target)
    return obj


def checked(family: Family, name: str, component: Any) -> Any:
    """``component`` (built from ``name``) if it has every attribute of the family's protocol."""
    data, methods = _members(family.protocol)
    if all(hasattr(component, d) for d in data) and all(
        callable(getattr(component, m, None)) for m in methods
    ):
        return component
    raise _wrong_shape(family, name, _target(family, name) or name)


def create(family: Family, name: str, *args: Any, **kwargs: Any) -> Any:
    """Load ``name`` and build it with ``args`` and ``kwargs``; the result is checked."""
    return checked(family, name, load(family, name)(*args, **kwargs))
