"""Entrypoints to flows, and deployment parameters checked against the flow's parameter schema.

The schema is the one Prefect stores with the deployment and renders as the run form in the
UI; it is checked the way the Prefect server does (JSON Schema), plus keys the schema does not
know: pydantic models ignore unknown keys, so a misspelt ``fail-on`` would otherwise be
dropped without a word.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from prefect import Flow

from ai_conductor.errors import UsageError


class EntrypointError(UsageError):
    """An entrypoint that does not name an importable Prefect flow."""


def load_flow(directory: Path, entrypoint: str) -> tuple[Flow[..., Any], bool]:
    """The flow at ``path.py:name`` under ``directory``, and whether it was imported as a
    package module (then runs can load it by module path from any working directory)."""
    file_part, sep, attr = entrypoint.rpartition(":")
    if not sep or not file_part.endswith(".py") or not attr.isidentifier():
        raise EntrypointError(f"entrypoint {entrypoint!r}: expected path/to/file.py:flow_function")
    file = (directory / file_part).resolve()
    if not file.is_file():
        raise EntrypointError(f"entrypoint {entrypoint!r}: {file} does not exist")
    module, as_package = _import(file, directory)
    obj = getattr(module, attr, None)
    if obj is None:
        raise EntrypointError(f"entrypoint {entrypoint!r}: {file_part} has no {attr!r}")
    if not isinstance(obj, Flow):
        raise EntrypointError(
            f"entrypoint {entrypoint!r}: {attr} is a {type(obj).__name__}, not a Prefect flow "
            "(decorate it with @flow)"
        )
    return obj, as_package


def _import(file: Path, directory: Path) -> tuple[Any, bool]:
    try:
        parts = file.relative_to(directory.resolve()).with_suffix("").parts
    except ValueError:
        parts = ()
    if parts and all(part.isidentifier() for part in parts):
        try:
            module = importlib.import_module(".".join(parts))
        except Exception:  # not importable as a package module: run it as a script below
            module = None
        if module is not None and Path(getattr(module, "__file__", "") or "").resolve() == file:
            return module, True
    from prefect.exceptions import ScriptError
    from prefect.utilities.importtools import load_script_as_module

    try:
        return load_script_as_module(str(file)), False
    except ScriptError as exc:
        cause = exc.user_exc
        raise EntrypointError(
            f"{file.name} does not import: {type(cause).__name__}: {cause}"
        ) from None


def parameter_problems(
    flow: Flow[..., Any], parameters: dict[str, Any], *, complete: bool
) -> list[str]:
    """What is wrong with ``parameters`` for ``flow``; ``complete``: every required parameter
    must be given (a schedule starts runs with nothing else), else only the given ones count."""
    from prefect.utilities.schema_tools.validation import validate

    schema = flow.parameters.model_dump_for_openapi()
    problems = [f"parameters{path}: unknown key {key!r} (the flow takes: {', '.join(known)})"
                for path, key, known in _unknown_keys(parameters, schema, schema, "")]  # fmt: skip
    for error in validate(parameters, schema, ignore_required=not complete):
        where = error.json_path.removeprefix("$")
        problems.append(f"parameters{where}: {error.message}")
    if complete and not problems:
        try:
            flow.validate_parameters(parameters)
        except Exception as exc:  # pydantic's own checks (validators, constraints)
            problems.append(f"parameters: {exc}".splitlines()[0][:500])
    return problems


def _unknown_keys(
    value: Any, node: dict[str, Any], root: dict[str, Any], path: str
) -> list[tuple[str, str, list[str]]]:
    node = _resolve(node, root)
    found: list[tuple[str, str, list[str]]] = []
    for option in node.get("anyOf", []) + node.get("allOf", []):
        if isinstance(value, dict) and _resolve(option, root).get("type") == "object":
            return _unknown_keys(value, option, root, path)
    props = node.get("properties")
    if isinstance(value, dict) and isinstance(props, dict) and not node.get("additionalProperties"):
        for key, item in value.items():
            if key not in props:
                found.append((path, str(key), sorted(props)))
            else:
                found += _unknown_keys(item, props[key], root, f"{path}.{key}")
    elif isinstance(value, list) and isinstance(node.get("items"), dict):
        for index, item in enumerate(value):
            found += _unknown_keys(item, node["items"], root, f"{path}[{index}]")
    return found


def _resolve(node: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part, {}) if isinstance(target, dict) else {}
        return target if isinstance(target, dict) else {}
    return node
