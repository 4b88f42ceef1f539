"""The three roles. The analyzer runs the real analysis; the implementer and refiner arrive
later and until then fail clearly, never with a fake result."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ai_conductor.errors import AgentUnavailable
from ai_conductor.protocols import AgentOutput, TaskContext
from ai_conductor.spec import AgentConfig, TaskSpec


class AnalyzerAgent:
    """Analyses the task's codebase (ruff, bandit, radon; see `conductor analyze`).

    Inputs (all optional): ``focus_areas`` (or ``focus``) list of areas, ``tools`` list of tool
    names, ``output`` path for an extra report file, ``format`` of that file, ``new_only``.
    Agent ``options`` may set ``tools`` and per-tool options under ``tool_options``.
    Output: the analysis report (the analysis.json structure), handed to dependent tasks.
    """

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    @staticmethod
    def input_problems(inputs: Mapping[str, Any]) -> list[str]:
        from ai_conductor.analysis.rules import FOCUS_AREAS

        focus = inputs.get("focus_areas", inputs.get("focus", []))
        if isinstance(focus, str):
            focus = [focus]
        if not isinstance(focus, list) or not all(isinstance(a, str) for a in focus):
            return ["'focus_areas' must be a list of area names"]
        unknown = [a for a in focus if a.lower() not in FOCUS_AREAS]
        if unknown:
            return [f"unknown focus area(s) {unknown}; known: {', '.join(sorted(FOCUS_AREAS))}"]
        return []

    def execute(self, task: TaskSpec, context: TaskContext) -> AgentOutput:
        from ai_conductor.analysis import analyze
        from ai_conductor.reports import write_report

        inputs = task.inputs
        focus = inputs.get("focus_areas", inputs.get("focus", []))
        report = analyze(
            context.codebase,
            focus=[focus] if isinstance(focus, str) else focus,
            tools=inputs.get("tools") or self.config.options.get("tools"),
            tool_options=self.config.options.get("tool_options"),
        )
        if inputs.get("new_only"):
            report = report.model_copy(
                update={"findings": [f for f in report.findings if f.status.value == "new"]}
            )
        if inputs.get("output"):
            write_report(report, Path(str(inputs["output"])), str(inputs.get("format", "json")))
        _publish_if_in_flow(report)
        return report.model_dump(mode="json")


def _publish_if_in_flow(report: Any) -> None:
    """Inside a Prefect run, attach the Markdown summary and findings table as artifacts."""
    from prefect.context import TaskRunContext

    if TaskRunContext.get() is not None:
        from ai_conductor.reports import publish_artifacts

        publish_artifacts(report)


class _UnavailableRole:
    role = ""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    def execute(self, task: TaskSpec, context: TaskContext) -> AgentOutput:
        raise AgentUnavailable(
            f"the {self.role} role is not available yet in this version of ai-conductor "
            f"(task {task.id!r}); use the 'command' agent to run a tool of your choice meanwhile"
        )


class ImplementerAgent:
    """Fixes findings with verified changes (see `conductor implement`).

    The analysis comes from ``inputs.analysis`` (a path to analysis.json) or from an upstream
    analyzer task. Inputs (optional): ``focus`` (area or list), ``attempts``, ``apply``,
    ``test_command`` (argv list; [] for none), ``test_timeout``, ``min_severity``. The agent's
    ``backend`` (default builtin) and ``options`` (handed to the backend) choose who proposes.
    """

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    def execute(self, task: TaskSpec, context: TaskContext) -> AgentOutput:
        from ai_conductor.analysis.models import AnalysisReport, Severity
        from ai_conductor.implement import ImplementOptions, implement
        from ai_conductor.reports import load_analysis

        inputs = task.inputs
        if inputs.get("analysis"):
            analysis = load_analysis(Path(str(inputs["analysis"])))
        else:
            found = [
                o for o in context.upstream.values() if "schema_version" in o and "findings" in o
            ]
            if not found:
                raise AgentUnavailable(
                    f"task {task.id!r} has no analysis: depend on an analyzer task or set "
                    "inputs.analysis to an analysis.json"
                )
            analysis = AnalysisReport.model_validate(found[0])
        focus = inputs.get("focus", [])
        options = ImplementOptions(
            backend=self.config.backend or "builtin",
            backend_options=dict(self.config.options),
            focus=[focus] if isinstance(focus, str) else list(focus),
            min_severity=Severity(str(inputs.get("min_severity", "low"))),
            attempts=int(inputs.get("attempts", 3)),
            apply=bool(inputs.get("apply", False)),
            test_command=inputs.get("test_command"),
            test_timeout=float(inputs.get("test_timeout", 600)),
            workflow_id=context.workflow_id,
            task_id=context.task_id,
        )
        return implement(analysis, context.codebase, options).model_dump(mode="json")


class RefinerAgent(_UnavailableRole):
    role = "refiner"
