"""LLM help for the stack review: one request asks a model for a concrete recommendation per
``STACK-*`` finding, given the project's dependency files.

The reply is untrusted: only answers for findings that were asked about are kept, as plain
text, shortened; nothing in it is executed or written anywhere but the report.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ai_conductor.analysis.models import Finding
from ai_conductor.errors import UsageError
from ai_conductor.implement.backends import load_backend
from ai_conductor.implement.backends.chat import LLMBackend
from ai_conductor.refine.checks import _URL_CREDENTIALS

MAX_ADVICE = 600
"""Characters kept of one recommendation."""
MAX_FILE = 12_000
"""Characters of each dependency file shown to the model."""
FILES = ("pyproject.toml", "requirements.txt", "setup.cfg")

SYSTEM = """You review a Python project's dependencies and configuration for a named stack.
For each numbered finding, give one concrete recommendation (one or two sentences: what to
change, where, and why) that fits this project. Answer ONLY with JSON:
{"advice": [{"id": "F1", "advice": "..."}]}"""

ADVICE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "advice": {
            "type": "array",
            "maxItems": 50,
            "items": {
                "type": "object",
                "properties": {
                    "id": {"type": "string", "maxLength": 8},
                    "advice": {"type": "string", "maxLength": MAX_ADVICE},
                },
                "required": ["id", "advice"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["advice"],
    "additionalProperties": False,
}


class LLMAdvisor:
    """An ``advise`` hook for :func:`~ai_conductor.refine.stack.review_stack` backed by an LLM
    backend of the implementer (``openai``, ``anthropic`` or a plugin built on them)."""

    def __init__(self, root: Path, stack: str, backend: str, options: Mapping[str, Any]) -> None:
        loaded = load_backend(backend, options)
        if not isinstance(loaded, LLMBackend):
            raise UsageError(
                f"stack advice needs an LLM backend (openai or anthropic), not {backend!r}"
            )
        self.backend, self.root, self.stack = loaded, root, stack
        self.tokens, self.cost_usd = 0, 0.0

    def __call__(self, findings: list[Finding]) -> dict[str, str]:
        ids = {f"F{i}": f for i, f in enumerate(findings[:50], 1)}
        listed = "\n".join(
            f"{key}: [{f.rule_id}] {f.path}:{f.line}: {f.message}" for key, f in ids.items()
        )
        user = f"Stack: {self.stack}\n\nFindings:\n{listed}\n\n{self._files()}"
        try:
            payload, tokens, cost = self.backend.ask_json(SYSTEM, user, ADVICE_SCHEMA)
        except Exception as exc:
            self.tokens += getattr(exc, "tokens", 0)
            self.cost_usd += getattr(exc, "cost_usd", 0.0)
            raise
        self.tokens, self.cost_usd = self.tokens + tokens, self.cost_usd + cost
        return _advice(payload, ids)

    def _files(self) -> str:
        blocks = []
        for name in FILES:
            path = self.root / name
            if path.is_file() and not path.is_symlink():
                text = redact(path.read_text(encoding="utf-8", errors="replace"))[:MAX_FILE]
                blocks.append(f"--- {name} ---\n{text}\n--- end of {name} ---")
        return "\n\n".join(blocks)


_INDEX_OPTION = re.compile(r"^\s*--(?:extra-)?index-url\b.*$", re.MULTILINE)
_SECRET_ASSIGNMENT = re.compile(
    r"(?im)^(\s*[\w.-]*(?:password|passwd|secret|token|api[_-]?key)[\w.-]*\s*[=:]\s*).+$"
)


def redact(text: str) -> str:
    """``text`` with credentials in URLs, index URLs and ``*password*=...`` values masked:
    a dependency file is sent to a model, its secrets never are."""
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}://{m['user']}:***@{m['host']}", text)
    text = _INDEX_OPTION.sub("--index-url ***", text)
    return _SECRET_ASSIGNMENT.sub(lambda m: f"{m[1]}***", text)


def _advice(payload: Any, ids: Mapping[str, Finding]) -> dict[str, str]:
    """Recommendation text per fingerprint, from an untrusted reply."""
    items = payload.get("advice") if isinstance(payload, dict) else None
    out: dict[str, str] = {}
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        key, text = item.get("id"), item.get("advice")
        if isinstance(key, str) and key.strip() in ids and isinstance(text, str):
            clean = " ".join(text.split())[:MAX_ADVICE]
            if clean:
                out[ids[key.strip()].fingerprint] = clean
    return out
