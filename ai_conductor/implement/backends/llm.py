"""What the LLM backends share: options, the API key, the prompt and parsing the reply.

The conversation itself (retries, re-asks, accounting) is :mod:`.chat`.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr, ValidationError

from ai_conductor.errors import AgentUnavailable, ConfigError, UsageError
from ai_conductor.implement.api import KEEP_API_RULE
from ai_conductor.implement.edits import EDITS_JSON_SCHEMA, EditRejected, parse_edits, safe_target
from ai_conductor.implement.models import ChangeRequest, Edit
from ai_conductor.settings import get_settings

__all__ = [
    "REPLY_SCHEMA",
    "LLMOptions",
    "build_messages",
    "key_may_go_to",
    "parse_reply",
    "resolve_api_key",
]
log = logging.getLogger(__name__)

REPLY_SCHEMA: dict[str, Any] = EDITS_JSON_SCHEMA
"""The JSON schema replies must follow (``{"edits": [{path, search, replace}]}``)."""

MAX_FILE_CHARS = 24_000
"""Larger files are shown as windows around the findings."""
MAX_FILES_CHARS = 72_000
"""Most file content in one prompt; files past it are named but not shown."""
WINDOW = 30
"""Lines shown either side of a finding in a large file."""

SYSTEM = """You fix findings of static analyzers in a code repository.
Answer ONLY with one JSON object, no prose and no Markdown:
{"edits": [{"path": "<file path as given>", "search": "<exact text>", "replace": "<new text>"}]}
Rules:
- "search" must be copied exactly (spaces, indentation, newlines) from the file content shown,
  and must occur exactly once in that file; include a few surrounding lines to make it unique.
- "replace" is the complete new text for that span. Keep changes minimal; do not reformat.
- Fix the findings without changing behaviour the tests rely on.
- Only edit the files shown; paths are relative to the repository root.
- If nothing can be fixed safely, answer {"edits": []}."""


class LLMOptions(BaseModel):
    """Options every LLM backend accepts (``backend_options`` in a spec or on the CLI).

    ``llm_block`` (or the ``CONDUCTOR_LLM_BLOCK`` setting) names an ``LLMBackendConfig``
    Prefect block whose values fill every option not given explicitly, and whose API key is
    used unless ``api_key_block`` names another. The block does not choose the backend: its
    ``provider`` must be the backend's name (a :class:`UsageError` otherwise; a setting for
    the other provider is not used).
    """

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    model: str = Field(min_length=1)
    """Model name as the service knows it (required, here or in the ``llm_block``)."""
    base_url: str | None = None
    """Service endpoint (an OpenAI- or Anthropic-compatible server); default: the SDK's. The
    ``OPENAI_API_KEY``/``ANTHROPIC_API_KEY`` settings (and an ``llm_block``'s key) are sent to
    a ``base_url`` option only when it names the provider's host or a loopback address; other
    endpoints get their key from ``api_key_block`` or an ``llm_block`` that names them."""
    llm_block: str | None = None
    """Name of an ``LLMBackendConfig`` Prefect block to take the model, endpoint, API key and
    options from (explicit options win); default ``CONDUCTOR_LLM_BLOCK``, ``""`` for none."""
    api_key_block: str | None = None
    """Name of a Prefect ``Secret`` block holding the API key (instead of the settings)."""
    max_tokens: int = Field(default=2048, ge=1)
    """Most tokens one reply may use."""
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    timeout: float = Field(default=60.0, gt=0)
    """Seconds one request may take."""
    retries: int = Field(default=3, ge=0, le=20)
    """Retries of transient errors (rate limits, timeouts, connection errors, 5xx)."""
    malformed_retries: int = Field(default=1, ge=0, le=5)
    """Re-asks within one attempt, with the parse error, when a reply is not usable JSON."""
    price_input_per_mtok: float | None = Field(default=None, ge=0)
    """USD per million input tokens; the cost is reported only when a price is known."""
    price_output_per_mtok: float | None = Field(default=None, ge=0)
    """USD per million output tokens (an unset price counts as 0 when the other is set)."""
    breaker_threshold: int = Field(default=5, ge=1)
    """Consecutive failed calls after which the backend's circuit opens."""
    breaker_cooldown: float = Field(default=30.0, ge=0)
    """Seconds an open circuit refuses calls before one probe call is let through."""

    _block_api_key: SecretStr | None = PrivateAttr(default=None)
    """The API key of the ``llm_block`` (never an option: keys stay out of specs)."""
    _own_base_url: bool = PrivateAttr(default=False)
    """``base_url`` was given as an option (not taken from the ``llm_block``): the configured
    keys go there only when it is a trusted endpoint (see :func:`resolve_api_key`)."""

    @classmethod
    def parse(cls, backend: str, options: Mapping[str, Any] | None) -> Self:
        """Validate ``options`` (filled from the ``llm_block``); every problem is a
        :class:`UsageError` naming the option or the block."""
        options = dict(options or {})
        given_url = options.get("base_url")
        known = ", ".join(sorted(cls.model_fields))
        unknown = sorted(set(options) - set(cls.model_fields))
        if unknown:
            raise UsageError(
                f"{backend} backend: unknown option(s) {', '.join(map(repr, unknown))}; "
                f"known options: {known} (fix backend_options)"
            )
        key, note = None, ""
        if "llm_block" in options or get_settings().llm_block:
            from ai_conductor.blocks.llm import fill_options

            options, key, note = fill_options(backend, options, set(cls.model_fields))
        if not options.get("model"):
            raise UsageError(
                f"{backend} backend: option 'model' is required (e.g. backend_options: "
                f"{{model: <model name>}}, or llm_block: <block name>){note}"
            )
        try:
            parsed = cls.model_validate(options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise UsageError(f"{backend} backend: invalid backend_options: {problems}") from exc
        parsed._block_api_key = key
        parsed._own_base_url = bool(given_url)
        return parsed

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD for this usage, 0.0 when no price is known."""
        per_in, per_out = self.price_input_per_mtok or 0.0, self.price_output_per_mtok or 0.0
        return (input_tokens * per_in + output_tokens * per_out) / 1_000_000


OFFICIAL_HOSTS: dict[str, frozenset[str]] = {
    "openai": frozenset({"api.openai.com"}),
    "anthropic": frozenset({"api.anthropic.com"}),
}
"""The providers' own endpoints: a configured key may be sent there whoever named them."""


def key_may_go_to(backend: str, options: LLMOptions) -> bool:
    """Whether an operator-configured API key (the settings' ``OPENAI_API_KEY`` /
    ``ANTHROPIC_API_KEY``, or the ``llm_block``'s key) may be sent to the endpoint in use.

    Yes for the SDK's default endpoint and for a ``base_url`` taken from the ``llm_block``
    (both chosen by whoever configured the key), and for a ``base_url`` option naming the
    provider's own host or a loopback address (a local proxy). A ``base_url`` option naming
    any other host may have come from a spec the operator did not write: the key stays here
    (name the key with ``api_key_block``, or put the endpoint and its key in an
    ``llm_block``)."""
    if not options.base_url or not options._own_base_url:
        return True
    host = (urlsplit(options.base_url).hostname or "").rstrip(".").lower()
    if host in OFFICIAL_HOSTS.get(backend, frozenset()) or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_api_key(backend: str, options: LLMOptions, setting: SecretStr | None, env: str) -> str:
    """The key from the Secret block, else the ``llm_block``'s, else the settings; a
    placeholder for local servers.

    The ``llm_block``'s and the settings' keys are sent only where :func:`key_may_go_to`
    allows; for another ``base_url`` option the placeholder is sent (servers that need no key
    accept it) and a warning says how to give that endpoint a key."""
    if options.api_key_block:
        from ai_conductor._prefect import load_secret

        try:
            value = load_secret(options.api_key_block)
        except Exception as exc:  # prefect raises several kinds for a missing block
            raise ConfigError(
                f"{backend} backend: cannot load Prefect Secret block "
                f"{options.api_key_block!r} ({str(exc)[:200]}); create it with "
                f"Secret(value=...).save({options.api_key_block!r}) or fix api_key_block"
            ) from exc
        return str(value)
    configured = options._block_api_key
    if configured is None and setting is not None and setting.get_secret_value():
        configured = setting
    if configured is not None and key_may_go_to(backend, options):
        return configured.get_secret_value()
    if options.base_url:
        if configured is not None:
            source = "the llm_block's API key" if options._block_api_key else env
            log.warning(
                "%s backend: %s is not sent to base_url host %r given in the options (only to "
                "the provider's own endpoint, a loopback address or an llm_block's base_url); "
                "name a Prefect Secret block in api_key_block, or an llm_block with that "
                "endpoint and its key",
                backend, source, urlsplit(options.base_url).hostname,
            )  # fmt: skip
        return "not-needed"  # local OpenAI/Anthropic-compatible servers take any key
    raise AgentUnavailable(
        f"{backend} backend: no API key; set {env} (or CONDUCTOR_{env}), or name a Prefect "
        "Secret block in backend_options api_key_block, or an LLMBackendConfig block with an "
        "api_key in llm_block, or give base_url of a local server"
    )


def build_messages(
    request: ChangeRequest, workspace: Path, feedback: str | None
) -> tuple[str, str]:
    """The system and user prompts: the findings, the affected files' current content,
    the reply format, and why the previous attempt was rejected."""
    parts = [f"Fix these findings ({request.group}):"]
    for f in request.findings:
        parts.append(f"- [{f.severity.value}] {f.rule_id} {f.path}:{f.line}: {f.message}")
    if request.instructions:
        parts.append(f"Focus: {request.instructions}")
    shown = 0
    for path in sorted({f.path for f in request.findings}):
        if shown >= MAX_FILES_CHARS:
            parts.append(f"(file {path} not shown: prompt size limit reached; do not edit it)")
            continue
        lines = sorted({f.line for f in request.findings if f.path == path})
        parts.append(_file_block(workspace, path, lines))
        shown += len(parts[-1])
    if not request.allow_api_changes:
        parts.append(KEEP_API_RULE)
    if request.history:
        past = "\n".join(f"- {line}" for line in request.history)
        parts.append(f"Past changes for these rules (repeat what was kept, avoid what was "
                     f"rejected):\n{past}")  # fmt: skip
    if feedback:
        parts.append(f"Your previous attempt was rejected:\n{feedback[:4000]}\nFix that.")
    paths = sorted({f.path for f in request.findings})
    example = json.dumps({"edits": [{"path": paths[0], "search": "...", "replace": "..."}]})
    parts.append(f"Answer with the JSON object only, e.g. {example}; \"path\" is one of: "
                 f"{', '.join(paths)}.")  # fmt: skip
    return SYSTEM, "\n\n".join(parts)


def _file_block(workspace: Path, path: str, lines: list[int]) -> str:
    try:
        text = safe_target(workspace, path).read_text(encoding="utf-8")
    except (EditRejected, OSError, UnicodeError) as exc:
        return f"(file {path} cannot be shown: {exc})"
    if len(text) > MAX_FILE_CHARS:
        rows = text.splitlines(keepends=True)
        spans: list[tuple[int, int]] = []
        for n in lines:  # sorted: merge overlapping windows
            a, b = max(0, n - 1 - WINDOW), min(len(rows), n + WINDOW)
            if spans and a <= spans[-1][1]:
                spans[-1] = (spans[-1][0], b)
            else:
                spans.append((a, b))
        text = "\n[...]\n".join(
            f"(excerpt: lines {a + 1}-{b} of {len(rows)})\n" + "".join(rows[a:b]) for a, b in spans
        )[:MAX_FILE_CHARS]
    return f"===== BEGIN FILE {path} =====\n{text}\n===== END FILE {path} ====="


def _objects(text: str, errors: list[str]) -> Iterator[dict[str, Any]]:
    """JSON objects in ``text``, lazily (fences and prose around them tolerated); decoding
    errors are appended to ``errors``."""
    stripped = text.strip()
    if stripped.startswith("```"):
        stripped = stripped.split("\n", 1)[1] if "\n" in stripped else ""
        stripped = stripped.rsplit("```", 1)[0]
    decoder = json.JSONDecoder()
    start = stripped.find("{")
    while start >= 0:
        try:
            payload, _ = decoder.raw_decode(stripped, start)
        except ValueError as exc:
            errors.append(str(exc))
        else:
            if isinstance(payload, dict):
                yield payload
        start = stripped.find("{", start + 1)


def first_json_object(text: str) -> dict[str, Any] | None:
    """The first JSON object in an untrusted reply, or None."""
    return next(_objects(text, []), None)


def parse_reply(text: str) -> list[Edit]:
    """Edits from a model's untrusted reply: ```` ```json ```` fences and prose around the
    first JSON object are tolerated; anything else raises :class:`EditRejected`."""
    errors: list[str] = []
    seen = False
    for payload in _objects(text, errors):
        if "edits" in payload:
            return parse_edits(payload)
        seen = True
    why = errors[0] if errors else None
    if why is None:
        why = 'the JSON object has no key "edits"' if seen else "the reply holds no JSON object"
    raise EditRejected(f"reply is not usable ({why}); reply started with {text[:200]!r}")
