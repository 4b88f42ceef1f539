"""What a run's result says about findings and LLM usage (plain data; no Prometheus here)."""

from __future__ import annotations

from typing import Any, Final

SEVERITIES: Final = ("critical", "high", "medium", "low", "info")
_MAX_DEPTH: Final = 8


def as_data(result: Any) -> Any:
    """A pydantic model as its JSON dump; anything else unchanged."""
    dump = getattr(result, "model_dump", None)
    return dump(mode="json") if callable(dump) else result


def llm_usage(result: Any) -> tuple[float, float] | None:
    """Tokens and cost (USD) a result reports, or None when it reports neither.

    A report dict carries ``tokens``/``cost_usd`` itself; a workflow's result nests them in its
    task outputs, which are summed.
    """
    if not isinstance(result, dict):
        return None
    tokens, cost = result.get("tokens"), result.get("cost_usd")
    if isinstance(tokens, int | float) or isinstance(cost, int | float):
        return (
            float(tokens) if isinstance(tokens, int | float) else 0.0,
            float(cost) if isinstance(cost, int | float) else 0.0,
        )
    total: tuple[float, float] | None = None
    for value in result.values():
        part = llm_usage(value)
        if part is not None:
            tokens_so_far, cost_so_far = total or (0.0, 0.0)
            total = (tokens_so_far + part[0], cost_so_far + part[1])
    return total


def findings_by_severity(result: Any, _depth: int = 0) -> dict[str, int] | None:
    """Findings per severity summed over every analysis summary (``by_severity``) in a result,
    or None when it holds none."""
    if _depth > _MAX_DEPTH:
        return None
    if isinstance(result, dict):
        counts = result.get("by_severity")
        if isinstance(counts, dict):
            return {s: int(n) for s, n in counts.items() if isinstance(n, int | float)}
        values: list[Any] = list(result.values())
    elif isinstance(result, list):
        values = result
    else:
        return None
    total: dict[str, int] | None = None
    for value in values:
        part = findings_by_severity(value, _depth + 1)
        if part is not None:
            total = total if total is not None else {}
            for severity, n in part.items():
                total[severity] = total.get(severity, 0) + n
    return total
