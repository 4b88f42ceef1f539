"""The live run view follows audit events; the log table renders rows."""

from __future__ import annotations

from rich.console import Console

from ai_conductor.cli._render import RunView, log_lines, log_table
from ai_conductor.spec import parse_spec
from ai_conductor.store.events import AuditEvent


def render(obj: object) -> str:
    console = Console(width=160, record=True, color_system=None)
    console.print(obj)
    return console.export_text()


def test_run_view_tracks_task_states() -> None:
    spec = parse_spec(
        "workflow_id: v\ntasks:\n  - {id: a, agent: noop}\n  - {id: b, agent: noop}\n"
    )
    view = RunView(spec)
    assert "starting Prefect" in render(view)
    view.on_event(AuditEvent("v", "started", "running", agent_role="conductor"))
    view.on_event(AuditEvent("v", "started", "running", task_id="a", metadata={"attempt": 1}))
    view.on_event(AuditEvent("v", "reused", "completed", task_id="b", metadata={"duration_s": 1.5}))
    view.on_event(AuditEvent("other", "failed", "failed", task_id="a"))  # another workflow
    text = render(view)
    assert "v: running" in text
    a_line = next(line for line in text.splitlines() if "│ a " in line)
    assert "running" in a_line
    b_line = next(line for line in text.splitlines() if "│ b " in line)
    assert "reused" in b_line
    assert "1.50s" in b_line


def test_log_table_and_lines() -> None:
    row = {
        "created_at": "2026-11-24T10:00:00+00:00", "workflow_id": "w", "run_id": "abcdef123",
        "task_id": "t", "agent_role": "noop", "action": "failed", "status": "failed",
        "metadata": {"attempts": 2}, "error_message": "it\nbroke",
    }  # fmt: skip
    assert "it broke" in render(log_table([row]))
    header, line = log_lines([row])
    assert header.split("\t")[0] == "time"
    assert line.split("\t") == [
        "2026-11-24 10:00:00+00:", "w", "abcdef12", "t", "noop", "failed", "failed", "it broke"
    ]  # fmt: skip
