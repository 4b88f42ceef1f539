"""``WeaviateConnection``: the Weaviate the context store and ``weaviate-init`` use.

Save one from Python (``WeaviateConnection(url=..., api_key=...).save("weaviate")``) or the
Prefect UI, then set ``CONDUCTOR_WEAVIATE_BLOCK=weaviate`` (and
``CONDUCTOR_CONTEXT_STORE=weaviate`` to use it as the context store). Its fields mirror the
``weaviate_*`` settings and replace all of them when the block is named.
"""

from __future__ import annotations

from typing import Any, Literal

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, SecretStr


class WeaviateConnection(Block):
    """Where Weaviate is, how to log in, and the collection and vectorizer ai-conductor uses."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    _block_type_name = "Conductor Weaviate Connection"
    _block_type_slug = "conductor-weaviate-connection"
    _description = "Weaviate endpoint, API key and collection of ai-conductor's context store."

    url: str = Field(min_length=1)
    """Weaviate endpoint: ``http://localhost:8080``, ``https://CLUSTER.weaviate.cloud``, ..."""

    api_key: SecretStr | None = None
    """Weaviate API key (required by Weaviate Cloud)."""

    grpc_port: int = Field(default=50051, ge=1, le=65535)
    """gRPC port of a self-hosted Weaviate (batches and queries go over gRPC)."""

    grpc_host: str | None = None
    """gRPC host of a self-hosted Weaviate, when it differs from the host of ``url``."""

    collection: str = Field(default="CoordinationContext", min_length=1)
    """Name of the collection that holds the context records."""

    vectorizer: Literal["none", "text2vec-ollama", "text2vec-openai"] = "none"
    """``none`` (self-provided vectors from the embedding settings, or BM25 only) or a
    server-side module."""

    vectorizer_endpoint: str | None = None
    """API endpoint the server-side vectorizer module calls (e.g. ``http://ollama:11434``)."""

    vectorizer_model: str | None = None
    """Model the server-side vectorizer module uses (e.g. ``nomic-embed-text``)."""

    timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for Weaviate on connect, query and insert."""

    skip_init_checks: bool = False
    """Skip the client's start-up checks (gRPC health ping, PyPI version check)."""

    def settings_values(self) -> dict[str, Any]:
        """Every field as the ``weaviate_*`` setting it replaces (the key stays a SecretStr)."""
        return {f"weaviate_{name}": getattr(self, name) for name in type(self).model_fields}
