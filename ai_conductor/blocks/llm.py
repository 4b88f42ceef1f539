"""``LLMBackendConfig``: which model the implementer's ``openai``/``anthropic`` backend talks to,
where, with which key, and its knobs.

Save one from Python or the Prefect UI, then name it in a spec
(``agents.implementer.options: {llm_block: NAME}``), on the CLI
(``--backend openai --backend-option llm_block=NAME``) or as the default
(``CONDUCTOR_LLM_BLOCK=NAME``). Options given explicitly override the block's values; the
block's ``provider`` must be the backend's name (see
:class:`~ai_conductor.implement.backends.llm.LLMOptions`).
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any, Literal

from prefect.blocks.core import Block
from pydantic import ConfigDict, Field, SecretStr

from ai_conductor.blocks._load import load_block
from ai_conductor.errors import UsageError
from ai_conductor.implement.backends.openai_backend import Structured
from ai_conductor.settings import get_settings

OPTION_FIELDS = (
    "model", "base_url", "max_tokens", "temperature", "timeout", "retries",
    "price_input_per_mtok", "price_output_per_mtok", "structured", "prefill",
)  # fmt: skip
"""Fields that become backend options (everything but ``provider`` and ``api_key``)."""


class LLMBackendConfig(Block):
    """An LLM endpoint for the implementer and stack advice: provider, model, endpoint, API
    key (a ``SecretStr``) and the backend's knobs. Unset knobs keep the backend's defaults."""

    model_config = ConfigDict(use_attribute_docstrings=True)

    _block_type_name = "Conductor LLM Backend"
    _block_type_slug = "conductor-llm-backend"
    _description = "Model, endpoint, API key and options of ai-conductor's LLM backends."

    provider: Literal["openai", "anthropic"] = "openai"
    """The backend this block is for: ``openai`` (any OpenAI-compatible server) or
    ``anthropic``; it must match the backend that names the block."""

    model: str = Field(min_length=1)
    """Model name as the service knows it (e.g. ``gpt-4.1-mini``, ``claude-sonnet-4-5``)."""

    base_url: str | None = None
    """Service endpoint, e.g. ``http://127.0.0.1:11434/v1`` (Ollama); default: the SDK's."""

    api_key: SecretStr | None = None
    """API key; unset: the OPENAI_API_KEY / ANTHROPIC_API_KEY setting (local servers need none)."""

    max_tokens: int | None = Field(default=None, ge=1)
    """Most tokens one reply may use (backend default 2048)."""

    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    """Sampling temperature (backend default 0; anthropic sends it only when set)."""

    timeout: float | None = Field(default=None, gt=0)
    """Seconds one request may take (backend default 60)."""

    retries: int | None = Field(default=None, ge=0, le=20)
    """Retries of transient errors: rate limits, timeouts, 5xx (backend default 3)."""

    price_input_per_mtok: float | None = Field(default=None, ge=0)
    """USD per million input tokens, for cost reports and ``--max-cost`` budgets."""

    price_output_per_mtok: float | None = Field(default=None, ge=0)
    """USD per million output tokens."""

    structured: Structured | None = None
    """openai only: how to ask for JSON (``json_schema``, ``json_object``,
    ``json_object_schema`` for llama.cpp, ``none``); default ``json_schema``."""

    prefill: bool | None = None
    """anthropic only: start the reply with ``{`` (default true)."""

    def options(self) -> dict[str, Any]:
        """The backend options this block sets: its knobs that are set (never the key)."""
        return {
            name: getattr(self, name) for name in OPTION_FIELDS if getattr(self, name) is not None
        }


def fill_options(
    backend: str, options: dict[str, Any], known: Set[str]
) -> tuple[dict[str, Any], SecretStr | None, str]:
    """``options`` filled from the block their ``llm_block`` (else ``CONDUCTOR_LLM_BLOCK``)
    names, keeping explicit options and only the ``known`` ones; the block's API key; and a
    note for the missing-model message when the setting's block is for another provider."""
    explicit = "llm_block" in options
    name = options["llm_block"] if explicit else get_settings().llm_block
    if name is None or name == "":
        return options, None, ""
    if not isinstance(name, str):
        raise UsageError(f"{backend} backend: option llm_block must be a block name, not {name!r}")
    origin = "backend option llm_block" if explicit else "CONDUCTOR_LLM_BLOCK"
    block = load_block(LLMBackendConfig, name, origin)
    if block.provider != backend:
        if not explicit:  # a default meant for the other provider's backend
            return options, None, f" (CONDUCTOR_LLM_BLOCK {name!r} is for {block.provider})"
        raise UsageError(
            f"{backend} backend: llm_block {name!r} is an LLMBackendConfig for provider "
            f"{block.provider!r}; use backend {block.provider!r}, or a block whose provider "
            f"is {backend!r}"
        )
    values = {k: v for k, v in block.options().items() if k in known}
    key = block.api_key if block.api_key and block.api_key.get_secret_value() else None
    return {**values, **options, "llm_block": name}, key, ""
