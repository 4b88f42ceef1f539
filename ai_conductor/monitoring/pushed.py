"""The families a finished flow run pushes, and the push (imported only with prometheus_client).

Grouping key: ``job="ai_conductor"``, ``flow`` (the flow's name) and ``deployment`` (its
deployment's name, ``adhoc`` outside a deployment). The run id is not in the key: the
Pushgateway never forgets a group, so one group per run would grow without bound; it is the
``flow_run_id`` label of ``conductor_flow_run_info`` instead.

Each run replaces its group (``push_to_gateway``, HTTP PUT): what the group holds is exactly the
latest run of that flow and deployment, with no series left over from an earlier run (POST,
``pushadd_to_gateway``, would keep families the new run does not report, e.g. an earlier run's
task durations or findings). A completed run also replaces a second group, the same key plus
``outcome="completed"``, holding ``conductor_flow_run_last_success_timestamp_seconds``, so the
time of the last success survives later failures (alert on ``time() - that > 26h``).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any, Final

from prometheus_client import CollectorRegistry, Gauge, Histogram, Info, push_to_gateway

from ai_conductor.monitoring.push import TASK_ACTIONS, RunEvents
from ai_conductor.monitoring.usage import SEVERITIES, as_data, findings_by_severity, llm_usage

if TYPE_CHECKING:
    from ai_conductor._prefect import Flow, FlowRun, State

JOB: Final = "ai_conductor"
STATES: Final = ("completed", "failed", "crashed", "cancelled")
TIMEOUT: Final = 10.0
_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, float("inf"))


def _gauge(reg: CollectorRegistry, name: str, doc: str, *labels: str) -> Gauge:
    return Gauge(name, doc, list(labels), registry=reg)


def final_state(state: State[Any]) -> str:
    """``completed``, ``failed``, ``crashed`` or ``cancelled`` (cancelling counts as cancelled)."""
    if state.is_completed():
        return "completed"
    if state.is_crashed():
        return "crashed"
    if state.is_cancelled() or state.is_cancelling():
        return "cancelled"
    return "failed"


def deployment_name(flow_run: FlowRun) -> str:
    """The name of the run's deployment, ``adhoc`` without one (its id if it cannot be read)."""
    if flow_run.deployment_id is None:
        return "adhoc"
    try:
        from ai_conductor._prefect import deployment_name as name_of

        return name_of(flow_run.deployment_id)
    except Exception:
        return str(flow_run.deployment_id)


def _result(state: State[Any]) -> Any:
    if not state.is_completed():
        return None
    from ai_conductor._prefect import completed_value

    try:
        return as_data(completed_value(state))
    except Exception:  # not kept in memory: nothing to report
        return None


def _duration(flow_run: FlowRun, state: State[Any], events: RunEvents) -> float | None:
    if events.started is not None:
        return time.monotonic() - events.started
    if flow_run.start_time is not None and state.timestamp is not None:
        return max(0.0, (state.timestamp - flow_run.start_time).total_seconds())
    return None


def run_registry(flow_run: FlowRun, state: State[Any], events: RunEvents) -> CollectorRegistry:
    """The registry of one run's families (labels other than the grouping key only)."""
    reg = CollectorRegistry(auto_describe=True)
    name = final_state(state)
    Info("conductor_flow_run", "The run these metrics describe.", registry=reg).info(
        {"flow_run_id": str(flow_run.id), "flow_run_name": flow_run.name or "", "state": name}
    )
    seconds = _duration(flow_run, state, events)
    if seconds is not None:
        _gauge(reg, "conductor_flow_run_duration_seconds", "Duration of the latest run.").set(
            seconds
        )
    states = _gauge(
        reg, "conductor_flow_run_state", "Final state of the latest flow run (1: it).", "state"
    )
    for each in STATES:
        states.labels(each).set(1 if each == name else 0)
    _gauge(
        reg, "conductor_flow_run_finished_timestamp_seconds", "When the latest flow run ended."
    ).set_to_current_time()
    tasks = _gauge(
        reg, "conductor_flow_run_tasks", "Tasks of the latest flow run, by outcome.", "outcome"
    )
    for action in TASK_ACTIONS:
        tasks.labels(action).set(sum(1 for t in events.tasks if t[0] == action))
    durations = Histogram(
        "conductor_flow_run_task_duration_seconds",
        "Durations of the tasks of the latest flow run.",
        ["agent_role", "status"],
        buckets=_BUCKETS,
        registry=reg,
    )
    for _, role, status, duration in events.tasks:
        if duration is not None and duration >= 0:
            durations.labels(role, status).observe(duration)
    _add_outputs(reg, _result(state), events)
    return reg


def _add_outputs(reg: CollectorRegistry, result: Any, events: RunEvents) -> None:
    findings = findings_by_severity(result)
    if findings is None:  # a failed audit run still recorded its summary in the audit log
        findings = findings_by_severity(events.finished)
    if findings is not None:
        family = _gauge(
            reg, "conductor_flow_run_findings", "Findings the latest flow run reported.", "severity"
        )
        for severity in dict.fromkeys((*SEVERITIES, *findings)):
            family.labels(severity).set(findings.get(severity, 0))
    usage = llm_usage(result)
    if usage is not None:
        _gauge(
            reg, "conductor_flow_run_llm_tokens", "LLM tokens the latest flow run reported."
        ).set(usage[0])
        _gauge(
            reg, "conductor_flow_run_llm_cost_usd", "LLM cost (USD) the latest flow run reported."
        ).set(usage[1])


def push(
    url: str, flow: Flow[..., Any], flow_run: FlowRun, state: State[Any], events: RunEvents
) -> None:
    """Replace the run's group on the Pushgateway at ``url`` (and the last-success group)."""
    key = {"flow": flow.name, "deployment": deployment_name(flow_run)}
    registry = run_registry(flow_run, state, events)
    push_to_gateway(url, job=JOB, registry=registry, grouping_key=key, timeout=TIMEOUT)
    if final_state(state) == "completed":
        success = CollectorRegistry()
        _gauge(
            success,
            "conductor_flow_run_last_success_timestamp_seconds",
            "When a run of this flow and deployment last completed.",
        ).set_to_current_time()
        push_to_gateway(
            url,
            job=JOB,
            registry=success,
            grouping_key={**key, "outcome": "completed"},
            timeout=TIMEOUT,
        )
