"""Optional vectors for hybrid search: an OpenAI-compatible embedder, cosine, rank fusion.

Nothing here runs unless an embedding backend is configured (``embedding_base_url`` and
``embedding_model``) or an :class:`~ai_conductor.protocols.Embedder` is passed in: without one
the stores do pure full-text search and say so.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Sequence
from typing import Final

from ai_conductor.errors import ConfigError, StoreError
from ai_conductor.protocols import Embedder
from ai_conductor.settings import Settings

RRF_K: Final = 60
"""The usual reciprocal-rank-fusion constant: ``score = sum(1 / (RRF_K + rank))``."""


class OpenAIEmbedder:
    """Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint (official SDK)."""

    def __init__(self, base_url: str, model: str, api_key: str | None = None) -> None:
        self.base_url, self.model = base_url, model
        self.name = f"openai:{model}"
        self._api_key = api_key or "unused"  # local servers accept any key
        self._client: object | None = None

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        try:
            import openai
        except ImportError:
            raise ConfigError(
                "embedding_base_url is set but the openai SDK is missing: "
                "pip install 'ai-conductor[llm]', or unset CONDUCTOR_EMBEDDING_BASE_URL"
            ) from None
        if not isinstance(self._client, openai.OpenAI):
            self._client = openai.OpenAI(base_url=self.base_url, api_key=self._api_key)
        try:
            reply = self._client.embeddings.create(model=self.model, input=list(texts))
        except openai.OpenAIError as exc:
            raise StoreError(
                f"embedding endpoint {self.base_url} (model {self.model}) failed: "
                f"{type(exc).__name__}: {str(exc)[:300]}; check CONDUCTOR_EMBEDDING_BASE_URL "
                "and CONDUCTOR_EMBEDDING_MODEL"
            ) from None
        ordered = sorted(reply.data, key=lambda d: d.index)
        return [list(d.embedding) for d in ordered]


def embedder_from_settings(settings: Settings) -> Embedder | None:
    """The configured embedder, or None (pure full-text search)."""
    if not settings.embedding_base_url:
        return None
    if not settings.embedding_model:
        raise ConfigError(
            "CONDUCTOR_EMBEDDING_BASE_URL is set but CONDUCTOR_EMBEDDING_MODEL is not: "
            "name the embedding model to use, or unset the base URL"
        )
    key = settings.embedding_api_key or settings.openai_api_key
    return OpenAIEmbedder(
        settings.embedding_base_url,
        settings.embedding_model,
        key.get_secret_value() if key is not None else None,
    )


def pack(vector: Sequence[float]) -> bytes:
    """A unit-normalised float32 blob of ``vector`` (so cosine is a dot product)."""
    norm = math.sqrt(math.fsum(x * x for x in vector)) or 1.0
    return array("f", (x / norm for x in vector)).tobytes()


def unpack(blob: bytes) -> array[float]:
    """The vector stored by :func:`pack`."""
    out = array("f")
    out.frombytes(blob)
    return out


def dot(a: Sequence[float], b: Sequence[float]) -> float:
    """Dot product (cosine similarity of two :func:`pack`-normalised vectors)."""
    return math.fsum(x * y for x, y in zip(a, b, strict=False))


def fuse(*rankings: Iterable[int]) -> list[tuple[int, float]]:
    """Reciprocal rank fusion of ranked id lists: (id, score), best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
