"""The ``openai`` backend: any OpenAI-compatible chat-completions service, via the official SDK."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ai_conductor.errors import AgentError, AgentUnavailable
from ai_conductor.implement.backends.chat import LLMBackend, Message, Reply, failure
from ai_conductor.implement.backends.llm import REPLY_SCHEMA, LLMOptions, resolve_api_key
from ai_conductor.settings import get_settings

GRAMMAR_MAX_STRING = 1_000
"""String length limit in the schema sent with ``structured: json_object_schema``: llama.cpp
0.3.36 unrolls ``maxLength: n`` into n nested grammar rules; 1,000 works, at 2,000 its grammar
parser refuses the grammar and the server process dies."""
GRAMMAR_MAX_EDITS = 5

Structured = Literal["json_schema", "json_object", "json_object_schema", "none"]
"""The ways the ``openai`` backend can ask for JSON (see :attr:`OpenAIOptions.structured`)."""


class OpenAIOptions(LLMOptions):
    """Options of the ``openai`` backend."""

    structured: Structured = "json_schema"
    """How to ask for JSON: ``json_schema`` (OpenAI structured outputs with our schema; vLLM and
    Ollama accept it too), ``json_object`` (JSON mode, no schema), ``json_object_schema`` (JSON
    mode carrying the schema, which llama-cpp-python's server compiles into a grammar; it
    rejects ``json_schema``; string limits are lowered so the grammar stays small) or ``none``
    (instructions only)."""


def grammar_schema() -> dict[str, Any]:
    """:data:`REPLY_SCHEMA` with limits a grammar compiler can expand (see
    :data:`GRAMMAR_MAX_STRING`)."""
    item = dict(REPLY_SCHEMA["properties"]["edits"]["items"])
    cap = GRAMMAR_MAX_STRING
    item["properties"] = {
        key: {**prop, "maxLength": min(prop.get("maxLength", cap), cap)}
        for key, prop in item["properties"].items()
    }
    edits = {**REPLY_SCHEMA["properties"]["edits"], "items": item, "maxItems": GRAMMAR_MAX_EDITS}
    return {**REPLY_SCHEMA, "properties": {"edits": edits}}


class OpenAIBackend(LLMBackend):
    """Asks an OpenAI-compatible model for search/replace edits (it never writes files).

    Options: see :class:`OpenAIOptions`. The key comes from ``api_key_block`` (a Prefect
    ``Secret``) or the ``OPENAI_API_KEY`` / ``CONDUCTOR_OPENAI_API_KEY`` setting; a local
    server given by ``base_url`` needs none. The SDK's own retries are off: ours are counted
    and stop when the backend's circuit breaker opens.
    """

    name = "openai"

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        opts = OpenAIOptions.parse(self.name, options)
        try:
            import openai
        except ImportError:
            raise AgentUnavailable(
                "openai backend needs the openai SDK: pip install 'ai-conductor[llm]'"
            ) from None
        key = resolve_api_key(self.name, opts, get_settings().openai_api_key, "OPENAI_API_KEY")
        super().__init__(opts, key)
        self.structured = opts.structured
        self._openai = openai
        extra: dict[str, Any] = {"base_url": opts.base_url} if opts.base_url else {}
        self._client = openai.OpenAI(api_key=key, timeout=opts.timeout, max_retries=0, **extra)

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        edits = schema is REPLY_SCHEMA
        if self.structured == "json_schema":
            name = "edits" if edits else "answer"
            return {"type": "json_schema", "json_schema": {"name": name, "schema": schema}}
        if self.structured == "json_object":
            return {"type": "json_object"}
        if self.structured == "json_object_schema":
            return {"type": "json_object", "schema": grammar_schema() if edits else schema}
        return None

    def _complete(self, system: str, messages: list[Message], schema: dict[str, Any]) -> Reply:
        kwargs: dict[str, Any] = {
            "model": self.options.model,
            "messages": [{"role": "system", "content": system}, *messages],
            "max_tokens": self.options.max_tokens,
            "temperature": self.options.temperature,
        }
        response_format = self._response_format(schema)
        if response_format is not None:
            kwargs["response_format"] = response_format
        completion = self._client.chat.completions.create(**kwargs)
        usage = getattr(completion, "usage", None)  # servers differ: read defensively
        tokens_in = _count(getattr(usage, "prompt_tokens", 0))
        tokens_out = _count(getattr(usage, "completion_tokens", 0))
        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list) or not choices:
            return Reply("", tokens_in, tokens_out)
        message = getattr(choices[0], "message", None)
        text = getattr(message, "content", None)
        truncated = getattr(choices[0], "finish_reason", None) == "length"
        return Reply(text if isinstance(text, str) else "", tokens_in, tokens_out, truncated)

    def _format_refused(self, exc: BaseException) -> bool:
        """The server rejected our ``response_format`` (llama.cpp answers that with a 500)."""
        return (
            isinstance(exc, self._openai.APIStatusError)
            and self.structured != "none"
            and "response_format" in str(exc)
        )

    def _transient(self, exc: BaseException) -> bool:
        o = self._openai
        if self._format_refused(exc):
            return False  # the same request will be refused again
        if isinstance(exc, o.RateLimitError | o.APIConnectionError | o.InternalServerError):
            return True  # APITimeoutError is an APIConnectionError
        return isinstance(exc, o.APIStatusError) and (
            exc.status_code >= 500 or exc.status_code == 408
        )

    def _describe(self, exc: Exception, tries: int) -> AgentError | None:
        if not isinstance(exc, self._openai.OpenAIError):
            return None
        host = self.where if self.options.base_url else "api.openai.com"
        where = f"{host} (model {self.options.model})"
        message = self._scrub(str(getattr(exc, "message", None) or exc))
        status = getattr(exc, "status_code", None)
        advice = None
        if self._format_refused(exc):
            advice = (
                f"this server does not accept structured={self.structured!r}; set backend option"
                " structured to json_object_schema (llama.cpp), json_object or none"
            )
        return failure(
            self.name, where, status, type(exc).__name__, message,
            transient=self._transient(exc), tries=tries, advice=advice,
        )  # fmt: skip


def _count(value: object) -> int:
    """A token count from a reply: non-negative int, else 0."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
