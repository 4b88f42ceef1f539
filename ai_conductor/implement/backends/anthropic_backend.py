"""The ``anthropic`` backend: Claude models (or a compatible server) via the official SDK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from ai_conductor.errors import AgentError, AgentUnavailable
from ai_conductor.implement.backends.chat import LLMBackend, Message, Reply, failure
from ai_conductor.implement.backends.llm import LLMOptions, resolve_api_key
from ai_conductor.implement.backends.openai_backend import _count
from ai_conductor.settings import get_settings

TRANSIENT_STATUS = frozenset({408, 429, 529})
"""Statuses below 500 worth retrying (timeout, rate limit) and Anthropic's "overloaded"."""


class AnthropicOptions(LLMOptions):
    """Options of the ``anthropic`` backend."""

    prefill: bool = True
    """Start the assistant's turn with ``{`` so the reply is JSON from its first character
    (turn off for models that refuse a prefilled assistant turn)."""


class AnthropicBackend(LLMBackend):
    """Asks a Claude model for search/replace edits (it never writes files).

    Options: see :class:`AnthropicOptions`. JSON is asked for by instructions (and the ``{``
    prefill); ``temperature`` is sent only when given (the SDK has no such parameter). The
    key comes from ``api_key_block`` (a Prefect ``Secret``) or the ``ANTHROPIC_API_KEY`` /
    ``CONDUCTOR_ANTHROPIC_API_KEY`` setting. The SDK's own retries are off: ours are counted
    and stop when the backend's circuit breaker opens.
    """

    name = "anthropic"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = AnthropicOptions.parse(self.name, options)
        try:
            import anthropic
        except ImportError:
            raise AgentUnavailable(
                "anthropic backend needs the anthropic SDK: pip install 'ai-conductor[llm]'"
            ) from None
        setting = get_settings().anthropic_api_key
        key = resolve_api_key(self.name, opts, setting, "ANTHROPIC_API_KEY")
        super().__init__(opts, key)
        self.prefill = opts.prefill
        self._anthropic = anthropic
        extra: dict[str, Any] = {"base_url": opts.base_url} if opts.base_url else {}
        self._client = anthropic.Anthropic(
            api_key=key, timeout=opts.timeout, max_retries=0, **extra
        )

    def _complete(self, system: str, messages: list[Message], schema: dict[str, Any]) -> Reply:
        turns: list[Message] = list(messages)
        if self.prefill:
            turns.append({"role": "assistant", "content": "{"})
        extra: dict[str, Any] = {}
        if "temperature" in self.options.model_fields_set:  # the SDK no longer has a parameter
            extra["extra_body"] = {"temperature": self.options.temperature}
        response = self._client.messages.create(
            model=self.options.model,
            system=system,
            messages=cast(Any, turns),
            max_tokens=self.options.max_tokens,
            **extra,
        )
        blocks = getattr(response, "content", None) or []
        text = "".join(
            b.text for b in blocks if getattr(b, "type", "") == "text" and isinstance(b.text, str)
        )
        if self.prefill:
            text = "{" + text
        usage = getattr(response, "usage", None)
        return Reply(
            text, _count(getattr(usage, "input_tokens", 0)),
            _count(getattr(usage, "output_tokens", 0)),
            truncated=getattr(response, "stop_reason", None) == "max_tokens",
        )  # fmt: skip

    def _transient(self, exc: BaseException) -> bool:
        a = self._anthropic
        kinds = (a.RateLimitError, a.APIConnectionError, a.InternalServerError)
        if isinstance(exc, kinds):
            return True  # APITimeoutError is an APIConnectionError; OverloadedError a 5xx
        return isinstance(exc, a.APIStatusError) and (
            exc.status_code >= 500 or exc.status_code in TRANSIENT_STATUS
        )

    def _describe(self, exc: Exception, tries: int) -> AgentError | None:
        if not isinstance(exc, self._anthropic.AnthropicError):
            return None
        host = self.where if self.options.base_url else "api.anthropic.com"
        where = f"{host} (model {self.options.model})"
        detail = getattr(exc, "api_message", None) or getattr(exc, "message", None) or exc
        return failure(
            self.name, where, getattr(exc, "status_code", None), type(exc).__name__,
            self._scrub(str(detail)), transient=self._transient(exc), tries=tries,
        )  # fmt: skip
