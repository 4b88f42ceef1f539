"""What the LLM backends share: options, the API key, the prompt and parsing the reply.

The conversation itself (retries, re-asks, accounting) is :mod:`.chat`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from ai_conductor.errors import AgentUnavailable, ConfigError, UsageError
from ai_conductor.implement.edits import EDITS_JSON_SCHEMA, EditRejected, parse_edits, safe_target
from ai_conductor.implement.models import ChangeRequest, Edit

__all__ = [
    "REPLY_SCHEMA",
    "LLMOptions",
    "build_messages",
    "parse_reply",
    "resolve_api_key",
]

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
    """Options every LLM backend accepts (``backend_options`` in a spec or on the CLI)."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    model: str = Field(min_length=1)
    """Model name as the service knows it (required)."""
    base_url: str | None = None
    """Service endpoint (an OpenAI- or Anthropic-compatible server); default: the SDK's."""
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

    @classmethod
    def parse(cls, backend: str, options: Mapping[str, Any] | None) -> Self:
        """Validate ``options``; every problem is a :class:`UsageError` naming the option."""
        options = dict(options or {})
        known = ", ".join(sorted(cls.model_fields))
        unknown = sorted(set(options) - set(cls.model_fields))
        if unknown:
            raise UsageError(
                f"{backend} backend: unknown option(s) {', '.join(map(repr, unknown))}; "
                f"known options: {known} (fix backend_options)"
            )
        if not options.get("model"):
            raise UsageError(
                f"{backend} backend: option 'model' is required "
                "(e.g. backend_options: {model: <model name>})"
            )
        try:
            return cls.model_validate(options)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()
            )
            raise UsageError(f"{backend} backend: invalid backend_options: {problems}") from exc

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """USD for this usage, 0.0 when no price is known."""
        per_in, per_out = self.price_input_per_mtok or 0.0, self.price_output_per_mtok or 0.0
        return (input_tokens * per_in + output_tokens * per_out) / 1_000_000


def resolve_api_key(backend: str, options: LLMOptions, setting: SecretStr | None, env: str) -> str:
    """The key from the Secret block, else the settings; a placeholder for local servers."""
    if options.api_key_block:
        from prefect.blocks.system import Secret

        try:
            value = Secret.load(options.api_key_block).get()  # type: ignore[union-attr]
        except Exception as exc:  # prefect raises several kinds for a missing block
            raise ConfigError(
                f"{backend} backend: cannot load Prefect Secret block "
                f"{options.api_key_block!r} ({str(exc)[:200]}); create it with "
                f"Secret(value=...).save({options.api_key_block!r}) or fix api_key_block"
            ) from exc
        return str(value)
    if setting is not None and setting.get_secret_value():
        return setting.get_secret_value()
    if options.base_url:
        return "not-needed"  # local OpenAI/Anthropic-compatible servers take any key
    raise AgentUnavailable(
        f"{backend} backend: no API key; set {env} (or CONDUCTOR_{env}), or name a Prefect "
        "Secret block in backend_options api_key_block, or give base_url of a local server"
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
