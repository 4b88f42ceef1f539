"""Where the Airbyte API is and how to log in: from settings or an ``AirbyteCredentials`` block.

Resolution never contacts Airbyte; every missing piece is a :class:`ConfigError` naming the
variable (or block field) to set. Secret values stay in ``SecretStr`` and out of messages.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, SecretStr

from ai_conductor._urls import without_userinfo
from ai_conductor.errors import ConfigError
from ai_conductor.settings import Settings

if TYPE_CHECKING:
    from airbyte_api import AirbyteAPI

AIRBYTE_CLOUD_URL = "https://api.airbyte.com/v1"
TOKEN_PATH = "/applications/token"  # noqa: S105 (a URL path, not a secret)
ENV_CREDENTIALS = (
    "set AIRBYTE_CLIENT_ID and AIRBYTE_CLIENT_SECRET (an Airbyte application), or AIRBYTE_API_KEY "
    "(a bearer token), or name an AirbyteCredentials block in CONDUCTOR_AIRBYTE_BLOCK"
)


class AirbyteConfig(BaseModel):
    """A resolved Airbyte target: API root, connection and one way to authenticate."""

    model_config = ConfigDict(frozen=True)

    server_url: str
    """API root without a trailing slash, e.g. ``https://api.airbyte.com/v1``."""
    connection_id: str
    """The connection whose sync is triggered."""
    client_id: str | None = None
    """Client-credentials auth: the application's client id."""
    client_secret: SecretStr | None = None
    """Client-credentials auth: the application's secret."""
    api_key: SecretStr | None = None
    """Bearer-token auth, when no client id is given."""
    source: str = "settings"
    """Where the values came from, for messages: ``settings`` or ``block 'NAME'``."""

    @property
    def token_url(self) -> str:
        """Absolute token endpoint (the SDK's relative default is wrong for self-hosted roots)."""
        return self.server_url + TOKEN_PATH

    @property
    def shown_url(self) -> str:
        """The server URL for messages and reports (credentials in it removed)."""
        return without_userinfo(self.server_url)

    @property
    def auth(self) -> str:
        return "client credentials" if self.client_id else "bearer token"

    @property
    def credentials_hint(self) -> str:
        """The settings (or block fields) that hold the credentials in use."""
        if self.source == "settings":
            pair = "AIRBYTE_CLIENT_ID/AIRBYTE_CLIENT_SECRET"
            return pair if self.client_id else "AIRBYTE_API_KEY"
        return f"{'client_id/client_secret' if self.client_id else 'api_key'} of the {self.source}"

    def secrets(self) -> list[str]:
        """Secret values to scrub from any text shown to the user."""
        values = [s.get_secret_value() for s in (self.client_secret, self.api_key) if s]
        return [v for v in values if v]

    def client(self, *, request_timeout: float = 30.0) -> AirbyteAPI:
        """The official SDK client for this target (``airbyte-api`` is imported here)."""
        try:
            import airbyte_api
            from airbyte_api import models
        except ImportError:
            raise ConfigError(
                "airbyte-api is not installed: pip install 'ai-conductor[airbyte]'"
            ) from None
        if self.client_id and self.client_secret:
            security = models.Security(
                client_credentials=models.SchemeClientCredentials(
                    client_id=self.client_id,
                    client_secret=self.client_secret.get_secret_value(),
                    token_url=self.token_url,
                )
            )
        else:
            assert self.api_key is not None
            security = models.Security(bearer_auth=self.api_key.get_secret_value())
        return airbyte_api.AirbyteAPI(
            server_url=self.server_url, security=security, timeout_ms=int(request_timeout * 1000)
        )


def normalize_server_url(url: str | None) -> str:
    """``None`` -> Airbyte Cloud; drop a trailing slash; bare ``https://api.airbyte.com`` -> /v1."""
    if not url:
        return AIRBYTE_CLOUD_URL
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(
            f"AIRBYTE_SERVER_URL {url!r} is not an http(s) URL: use {AIRBYTE_CLOUD_URL} "
            "(Cloud) or http(s)://HOST/api/public/v1 (self-hosted)"
        )
    root = url.strip().rstrip("/")
    if parts.netloc == "api.airbyte.com" and parts.path.strip("/") == "":
        return root + "/v1"
    return root


def _from_block(name: str) -> dict[str, Any]:
    from ai_conductor.blocks.airbyte import AirbyteCredentials

    try:
        block = cast(AirbyteCredentials, AirbyteCredentials.load(name, _sync=True))  # type: ignore[call-arg]
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"cannot load the AirbyteCredentials block {name!r} (CONDUCTOR_AIRBYTE_BLOCK): "
            f"{reason}; create it with AirbyteCredentials(...).save({name!r}) and check "
            "PREFECT_API_URL"
        ) from None
    return dict(block.model_dump(include={"server_url", "client_id", "connection_id"}),
                client_secret=block.client_secret, api_key=block.api_key)  # fmt: skip


def _from_settings(settings: Settings) -> dict[str, Any]:
    return {
        "server_url": settings.airbyte_server_url,
        "client_id": settings.airbyte_client_id,
        "client_secret": settings.airbyte_client_secret,
        "api_key": settings.airbyte_api_key,
        "connection_id": settings.airbyte_connection_id,
    }


def _check_credentials(values: dict[str, Any], block: str | None) -> None:
    has_id, has_secret = bool(values["client_id"]), bool(values["client_secret"])
    where = f"the AirbyteCredentials block {block!r}" if block else "the environment"
    if has_id != has_secret:
        missing = ("client_secret" if has_id else "client_id") if block else (
            "AIRBYTE_CLIENT_SECRET" if has_id else "AIRBYTE_CLIENT_ID")  # fmt: skip
        raise ConfigError(f"Airbyte client credentials are incomplete: set {missing} in {where}")
    if not has_id and not values["api_key"]:
        fix = "set its client_id and client_secret, or api_key" if block else ENV_CREDENTIALS
        raise ConfigError(f"no Airbyte credentials in {where}: {fix}")


def resolve_airbyte_config(settings: Settings, connection_id: str | None = None) -> AirbyteConfig:
    """The Airbyte target from ``settings.airbyte_block`` if named, else the AIRBYTE_* settings."""
    block = settings.airbyte_block
    values = _from_block(block) if block else _from_settings(settings)
    _check_credentials(values, block)
    connection = connection_id or values["connection_id"]
    if not connection:
        where = f"the block {block!r}'s connection_id" if block else "AIRBYTE_CONNECTION_ID"
        raise ConfigError(f"no Airbyte connection to sync: pass --connection-id ID or set {where}")
    return AirbyteConfig(
        server_url=normalize_server_url(values["server_url"]),
        connection_id=connection,
        client_id=values["client_id"] or None,
        client_secret=values["client_secret"],
        api_key=values["api_key"],
        source=f"block {block!r}" if block else "settings",
    )
