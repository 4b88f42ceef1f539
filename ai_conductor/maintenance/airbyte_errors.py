"""Airbyte API failures as conductor errors: what failed, where, what to fix, and no secrets."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from ai_conductor.errors import ConductorError, ConfigError
from ai_conductor.maintenance.airbyte_config import AirbyteConfig

T = TypeVar("T")


class AirbyteError(ConductorError):
    """The Airbyte API answered with an error or could not be reached (exit 3)."""


def scrub(text: str, config: AirbyteConfig) -> str:
    for secret in config.secrets():
        text = text.replace(secret, "***")
    return " ".join(text.split())[:300]


def api_error(config: AirbyteConfig, what: str, status: int, body: str) -> ConductorError:
    where = f"Airbyte at {config.shown_url} ({config.source})"
    if status == 401:
        return ConfigError(
            f"{where} rejected the {config.auth} (HTTP 401) to {what}: "
            f"check {config.credentials_hint}"
        )
    if status == 403:
        return ConfigError(f"{where} refused to {what} (HTTP 403): the credentials lack access")
    if status == 404:
        return ConfigError(
            f"{where} found nothing to {what} (HTTP 404): check the connection id "
            f"{config.connection_id!r} and that the server URL ends in /v1 (self-hosted: "
            "/api/public/v1)"
        )
    detail = scrub(body, config)
    return AirbyteError(
        f"{where} failed to {what}: HTTP {status}" + (f": {detail}" if detail else "")
    )


def call(config: AirbyteConfig, what: str, fn: Callable[[], T]) -> T:
    """Run one SDK call; map its failures to conductor errors without secrets."""
    import httpx
    from airbyte_api import errors

    try:
        return fn()
    except errors.AirbyteAPIError as exc:
        raise api_error(config, what, exc.status_code, exc.body) from None
    except httpx.HTTPError as exc:
        raise AirbyteError(
            f"cannot reach Airbyte at {config.shown_url} to {what}: {type(exc).__name__}: "
            f"{scrub(str(exc), config)}"
        ) from None
    except Exception as exc:  # the SDK's token hook raises a bare Exception
        text = scrub(str(exc), config)
        if "token endpoint" in text:
            raise ConfigError(
                f"Airbyte's token endpoint {config.token_url} refused the client credentials "
                f"({text}): check {config.credentials_hint}"
            ) from None
        raise AirbyteError(f"Airbyte call failed to {what}: {type(exc).__name__}: {text}") from None
