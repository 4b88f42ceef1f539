"""Prefect Block types of ai-conductor: credentials and connections, secrets as ``SecretStr``.

- :class:`LLMBackendConfig` (``conductor-llm-backend``): model, endpoint, API key and knobs of
  the ``openai``/``anthropic`` implementer backends; named by the backend option
  ``llm_block`` or ``CONDUCTOR_LLM_BLOCK``.
- :class:`WeaviateConnection` (``conductor-weaviate-connection``): the Weaviate context store;
  named by ``CONDUCTOR_WEAVIATE_BLOCK``.
- :class:`AirbyteCredentials` (``conductor-airbyte-credentials``): Airbyte's public API and the
  connection to sync; named by ``CONDUCTOR_AIRBYTE_BLOCK``.
- The audit database uses prefect-sqlalchemy's own ``SqlAlchemyConnector`` block (no type of
  ours); name it with ``CONDUCTOR_DATABASE_BLOCK``.

Register all three types with ``prefect block register -m ai_conductor.blocks`` (then create
blocks in the UI), or just call ``Block.save(name)``, which registers the type too.
"""

from ai_conductor.blocks.airbyte import AirbyteCredentials
from ai_conductor.blocks.llm import LLMBackendConfig
from ai_conductor.blocks.weaviate import WeaviateConnection

__all__ = ["AirbyteCredentials", "LLMBackendConfig", "WeaviateConnection"]
