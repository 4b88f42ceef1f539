"""What every maintenance operation shares: its result as JSON, as Markdown, and as an audit row."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from pydantic import BaseModel, TypeAdapter

from ai_conductor.settings import Settings
from ai_conductor.store import events as ev

WORKFLOW_ID = "maintenance"
ROLE = "maintenance"


def as_dict(result: object) -> dict[str, Any]:
    """A JSON-able dict of a pydantic model, a dataclass or a mapping (values made JSON-safe)."""
    if isinstance(result, BaseModel):
        data: Any = result.model_dump(mode="json")
    elif dataclasses.is_dataclass(result) and not isinstance(result, type):
        data = TypeAdapter(type(result)).dump_python(result, mode="json")
    elif isinstance(result, dict):
        data = result
    else:
        raise TypeError(f"cannot report a {type(result).__name__} as a maintenance result")
    loaded: dict[str, Any] = json.loads(json.dumps(data, default=str))
    return loaded


def _cell(value: Any) -> str:
    if isinstance(value, dict | list):
        value = json.dumps(value, default=str)
        value = value if len(value) <= 200 else value[:197] + "..."
    return str(value).replace("|", "\\|").replace("\n", " ")


def to_markdown(title: str, data: dict[str, Any], *, error: str | None = None) -> str:
    """A short Markdown report: a heading, the outcome, and one table row per field."""
    outcome = f"**failed:** {error}" if error else "**completed**"
    lines = [f"# {title}", "", outcome, "", "| field | value |", "|---|---|"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in data.items()]
    return "\n".join(lines) + "\n"


def record_outcome(
    settings: Settings,
    action: str,
    metadata: dict[str, Any],
    *,
    error: BaseException | None = None,
    status: str = ev.COMPLETED,
) -> None:
    """One ``coordination_logs`` row: workflow ``maintenance``, role ``maintenance``."""
    from ai_conductor.store import open_audit_log

    if error is not None:
        status = ev.TIMED_OUT if metadata.get("status") == "timed_out" else ev.FAILED_STATUS
    sink = open_audit_log(settings)
    sink.record(
        ev.AuditEvent(
            WORKFLOW_ID,
            action,
            status,
            agent_role=ROLE,
            metadata=metadata,
            error_message=str(error) if error is not None else None,
        )
    )
    sink.flush()
