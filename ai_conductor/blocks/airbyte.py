"""``AirbyteCredentials``: where the Airbyte API is, how to authenticate, which connection to sync.

Save one from Python (``AirbyteCredentials(client_id=..., client_secret=...).save("airbyte")``)
or the Prefect UI, then set ``CONDUCTOR_AIRBYTE_BLOCK=airbyte``.
"""

from __future__ import annotations

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, SecretStr

from ai_conductor.maintenance.airbyte_config import AIRBYTE_CLOUD_URL


class AirbyteCredentials(Block):
    """Credentials and the connection id for Airbyte's public API (Cloud or self-hosted)."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    _block_type_name = "Conductor Airbyte Credentials"
    _block_type_slug = "conductor-airbyte-credentials"
    _description = "Airbyte public API credentials and the connection ai-conductor syncs."

    server_url: str = Field(default=AIRBYTE_CLOUD_URL)
    """``https://api.airbyte.com/v1`` (Cloud) or ``http(s)://HOST/api/public/v1`` (self-hosted)."""

    client_id: str | None = None
    """Client id of an Airbyte application (client-credentials auth)."""

    client_secret: SecretStr | None = None
    """Client secret of that application."""

    api_key: SecretStr | None = None
    """A ready bearer token, instead of client id and secret."""

    connection_id: str | None = None
    """The connection to sync (``--connection-id`` overrides it)."""
