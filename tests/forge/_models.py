"""Valid instances of a platform's published response models, for the forge stand-ins.

``example(Model, **fields)`` fills every required field of a pydantic model from its annotation
(strings, URLs, numbers, nested models, enums/literals, optional -> None), applies ``fields``,
and validates the result with the model itself: what a stand-in sends is exactly what the
platform's published schema accepts, or the test fails where the data is built.
"""

from __future__ import annotations

import datetime as dt
import enum
import types
import typing
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel


def _value(annotation: Any, name: str, depth: int) -> Any:
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is None or annotation is type(None):
        return None
    if origin is typing.Annotated:
        return _value(args[0], name, depth)
    if origin in (Union, types.UnionType):
        if type(None) in args:
            return None
        return _value(next(a for a in args if not _is_unset(a)), name, depth)
    if origin is Literal:
        return args[0]
    if origin in (list, tuple, set, typing.Sequence) or annotation in (list,):
        return []
    if origin is dict or annotation is dict:
        return {}
    if isinstance(annotation, type):
        found = _typed(annotation, depth)
        if found is not _NONE:
            return found
    if annotation is Any:
        return None
    return f"https://forge.invalid/{name}" if name.endswith(("url", "_href")) else name


_NONE = object()


def _typed(annotation: type, depth: int) -> Any:
    """A value for a plain class annotation, or ``_NONE`` when it is not one of these."""
    if issubclass(annotation, BaseModel):
        return example_data(annotation, depth=depth + 1)
    if issubclass(annotation, enum.Enum):
        return next(iter(annotation)).value
    simple: list[tuple[type, Any]] = [(bool, False), (int, 1), (float, 1.0),
                                      (dt.datetime, "2026-12-01T00:00:00Z"),
                                      (dt.date, "2026-12-01")]  # fmt: skip
    return next((value for kind, value in simple if issubclass(annotation, kind)), _NONE)


def _is_unset(annotation: Any) -> bool:
    return "Unset" in getattr(annotation, "__name__", str(annotation))


def example_data(model: type[BaseModel], depth: int = 0, **fields: Any) -> dict[str, Any]:
    """JSON data (by alias) with every required field of ``model`` filled, then ``fields``."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key in fields or name in fields:
            continue
        if info.is_required() and depth < 8:
            data[key] = _value(info.annotation, key, depth)
    data.update(fields)
    return data


def example(model: type[BaseModel], **fields: Any) -> dict[str, Any]:
    """Like :func:`example_data`, validated by ``model`` (a ValidationError fails the test)."""
    data = example_data(model, **fields)
    model.model_validate(data)
    return data
