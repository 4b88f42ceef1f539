"""The conversation every LLM backend runs: prompt, retries behind a circuit breaker, re-asking
when a reply is unusable, token and cost accounting, and errors that say what to do."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ai_conductor._urls import without_userinfo
from ai_conductor.errors import AgentError
from ai_conductor.implement.backends.llm import (
    REPLY_SCHEMA,
    LLMOptions,
    build_messages,
    first_json_object,
    parse_reply,
)
from ai_conductor.implement.edits import EditRejected
from ai_conductor.implement.models import ChangeRequest, Proposal
from ai_conductor.implement.resilience import breaker_for, call_with_retries

__all__ = ["LLMBackend", "LLMCallFailed", "Message", "Reply", "failure"]


class LLMCallFailed(AgentError):
    """A model call failed; carries the tokens and cost spent before it failed."""

    def __init__(
        self, message: str, *, retryable: bool, tokens: int = 0, cost_usd: float = 0.0
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.tokens, self.cost_usd = tokens, cost_usd


def charge(exc: AgentError, tokens: int, cost_usd: float) -> None:
    """Let ``exc`` carry the tokens and cost spent so far (the implementer charges them)."""
    exc.tokens = getattr(exc, "tokens", 0) + tokens  # type: ignore[attr-defined]
    exc.cost_usd = getattr(exc, "cost_usd", 0.0) + cost_usd  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Reply:
    """One completion, as the backends report it."""

    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    truncated: bool = False
    """The reply hit ``max_tokens`` (``finish_reason``/``stop_reason``)."""


Message = dict[str, str]


class LLMBackend:
    """The conversation every LLM backend runs: prompt, retries behind the backend's circuit
    breaker, re-asking (with the parse error) when a reply is not usable, token accounting.

    Subclasses set :attr:`name`, parse their options and implement :meth:`_complete` (one
    request), :meth:`_transient` and :meth:`_describe` (an SDK error as an AgentError).
    """

    name: str

    def __init__(self, options: LLMOptions, key: str) -> None:
        self.options, self._key = options, key
        self.where = without_userinfo(options.base_url) if options.base_url else "default"
        """The endpoint as shown in messages (credentials in the URL removed)."""
        self.breaker = breaker_for(
            f"{self.name}:{self.where}:{options.model}", options.breaker_threshold,
            options.breaker_cooldown,
        )  # fmt: skip
        self.requests = 0
        """Requests sent by this backend (retries and re-asks included)."""
        self._count_lock = threading.Lock()  # one backend serves the implementer's threads

    def _complete(self, system: str, messages: list[Message], schema: dict[str, Any]) -> Reply:
        """One request; ``schema`` is the JSON the reply must match (for structured output)."""
        raise NotImplementedError

    def _transient(self, exc: BaseException) -> bool:
        raise NotImplementedError

    def _describe(self, exc: Exception, tries: int) -> AgentError | None:
        raise NotImplementedError

    def propose(self, request: ChangeRequest, workspace: Path, feedback: str | None) -> Proposal:
        """Ask the model for edits fixing ``request``; the implementer applies them."""
        system, user = build_messages(request, workspace, feedback)
        messages: list[Message] = [{"role": "user", "content": user}]
        tokens, cost = 0, 0.0
        for n in range(self.options.malformed_retries + 1):
            try:
                reply = self._call(system, messages, REPLY_SCHEMA)
            except AgentError as exc:
                charge(exc, tokens, cost)
                raise
            tokens += reply.input_tokens + reply.output_tokens
            cost += self.options.cost(reply.input_tokens, reply.output_tokens)
            try:
                if reply.truncated:
                    raise EditRejected(
                        f"the reply was cut off at max_tokens={self.options.max_tokens}; "
                        "answer with fewer, smaller edits"
                    )
                edits = parse_reply(reply.text)
            except EditRejected as exc:
                if n == self.options.malformed_retries:
                    charge(exc, tokens, cost)
                    raise
                messages.append({"role": "assistant", "content": reply.text or "(empty)"})
                messages.append(
                    {"role": "user", "content": f"That reply cannot be used: {exc}\n"
                     'Answer again with only the JSON object {"edits": [...]}.'}
                )  # fmt: skip
                continue
            summary = f"{self.name}/{self.options.model}: {len(edits)} edit(s) for {request.group}"
            return Proposal(edits=edits, summary=summary, tokens=tokens, cost_usd=cost)
        raise AssertionError("unreachable")  # pragma: no cover

    def ask_json(self, system: str, user: str, schema: dict[str, Any]) -> tuple[Any, int, float]:
        """One JSON answer matching ``schema`` (asked for, not trusted: the caller validates
        it), with the tokens and cost spent. An unusable reply raises a retryable AgentError."""
        reply = self._call(system, [{"role": "user", "content": user}], schema)
        tokens = reply.input_tokens + reply.output_tokens
        cost = self.options.cost(reply.input_tokens, reply.output_tokens)
        payload = None if reply.truncated else first_json_object(reply.text)
        if payload is None:
            error = AgentError(
                f"{self.name} backend: the reply holds no usable JSON object "
                f"(started with {reply.text[:120]!r})"
            )
            charge(error, tokens, cost)
            raise error
        return payload, tokens, cost

    def _call(self, system: str, messages: list[Message], schema: dict[str, Any]) -> Reply:
        tries = 0

        def once() -> Reply:
            nonlocal tries
            tries += 1
            with self._count_lock:
                self.requests += 1
            return self.breaker.call(
                lambda: self._complete(system, messages, schema), self._transient
            )

        opts = self.options
        try:
            return call_with_retries(once, retries=opts.retries, is_transient=self._transient)
        except AgentError:
            raise
        except Exception as exc:
            error = self._describe(exc, tries)
            if error is None:  # not the SDK's: a reply our code could not read, say
                error = LLMCallFailed(
                    f"{self.name} backend: unusable response from {self.where}: "
                    f"{type(exc).__name__}: {self._scrub(str(exc))[:300]}",
                    retryable=False,
                )
            raise error from exc

    def _scrub(self, text: str) -> str:
        """``text`` without the API key in it."""
        return text.replace(self._key, "***") if len(self._key) >= 8 else text


def failure(
    backend: str, where: str, status: int | None, kind: str, message: str, *, transient: bool,
    tries: int, advice: str | None = None,
) -> LLMCallFailed:  # fmt: skip
    """The error for a failed call: which service, what it said, and what to do about it."""
    what = f"HTTP {status}" if status else kind
    advice = advice or _advice(status, transient=transient)
    return LLMCallFailed(
        f"{backend} backend: {where}: {what} after {tries} request(s): {message[:500]} ({advice})",
        retryable=transient,
    )


def _advice(status: int | None, *, transient: bool) -> str:
    if transient:
        return "the service is failing or rate-limited; try again later"
    if status in (401, 403):
        return "check the API key (or api_key_block)"
    if status == 404:
        return "check model and base_url"
    return "the request was refused; check backend_options"
