"""Blocks the library loads by name: ``Secret`` values and SQLAlchemy connectors."""

from __future__ import annotations

from typing import Any

from ai_conductor.errors import ConfigError


def load_secret(name: str) -> Any:
    """The value of the Prefect ``Secret`` block ``name``; Prefect's own error when it cannot
    be loaded (callers say what the block was for)."""
    from prefect.blocks.system import Secret

    return Secret.load(name, _sync=True).get()  # type: ignore[call-arg, union-attr]


def secret_value(name: str, *, origin: str) -> str:
    """The value of the Prefect ``Secret`` block ``name`` (``origin``: the setting naming it);
    a ConfigError naming the block (never its value) when it cannot be loaded."""
    try:
        value = load_secret(name)
    except Exception as exc:  # prefect raises ValueError, httpx errors, validation errors
        raise ConfigError(
            f"cannot load the Prefect Secret block {name!r} ({origin}): {type(exc).__name__}; "
            f"create it with Secret(value=...).save({name!r}) and check PREFECT_API_URL"
        ) from None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"the Prefect Secret block {name!r} ({origin}) holds no text token")
    return value


def load_sqlalchemy_connector(name: str) -> Any:
    """The ``SqlAlchemyConnector`` block ``name`` (prefect-sqlalchemy); Prefect's error when it
    cannot be loaded."""
    from prefect_sqlalchemy import SqlAlchemyConnector

    return SqlAlchemyConnector.load(name, _sync=True)
