"""The three roles: analyzer, implementer and refiner, each a thin adapter onto its library."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ai_conductor.errors import AgentUnavailable, CoverageTooLow
from ai_conductor.protocols import AgentOutput, TaskContext
from ai_conductor.spec import AgentConfig, TaskSpec


class AnalyzerAgent:
    """Analyses the task's codebase (ruff, bandit, radon; see `conductor analyze`).

    Inputs (all optional): ``focus_areas`` (or ``focus``) list of areas, ``tools`` list of tool
    names, ``output`` path for an extra report file, ``format`` of that file, ``new_only``,
    ``min_coverage`` (a percentage: the task fails when a tool could read less of the files).
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
        pct = inputs.get("min_coverage")
        if pct is not None and (isinstance(pct, bool) or not isinstance(pct, int | float)
                                or not 0 <= pct <= 100):  # fmt: skip
            return [f"'min_coverage' must be a percentage from 0 to 100, got {pct!r}"]
        return []

    def execute(self, task: TaskSpec, context: TaskContext) -> AgentOutput:
        from ai_conductor.analysis import analyze
        from ai_conductor.analysis.coverage import below
        from ai_conductor.analysis.history import narrow
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
            report = narrow(report, (), new_only=True)
        if inputs.get("output"):
            write_report(report, Path(str(inputs["output"])), str(inputs.get("format", "json")))
        _publish_if_in_flow(report)
        uncovered = below(report, inputs.get("min_coverage"))
        if uncovered:  # after the report is written: it says which files and why
            raise CoverageTooLow(
                f"{'; '.join(uncovered)}: below min_coverage {inputs['min_coverage']}% "
                f"(task {task.id})"
            )
        return report.model_dump(mode="json")


def _publish_if_in_flow(report: Any) -> None:
    """Inside a Prefect run, attach the Markdown summary and findings table as artifacts."""
    from ai_conductor._prefect import in_task_run

    if in_task_run():
        from ai_conductor.reports import publish_artifacts

        publish_artifacts(report)


def _deliver(report: Any, inputs: Any, context: TaskContext, publication: Any) -> None:
    """Publish the kept changes when asked (``inputs.publish``), then, inside a Prefect run,
    attach the step's artifacts: a summary, a table of changes and the pull request's link."""
    if inputs.publish:
        from ai_conductor.publish import publish

        root = Path(report.codebase)
        report.published = publish(root, publication(root), inputs.publish_options(),
                                   log=context.logger)  # fmt: skip
    change_artifacts(report, context.workflow_id, context.task_id)


def change_artifacts(report: Any, workflow_id: str, task_id: str) -> list[str]:
    """The keyed artifacts of an implement or refine report, when in a Prefect run."""
    from ai_conductor import _prefect
    from ai_conductor.reports.artifacts import artifact_slug
    from ai_conductor.reports.changes import change_markdown, change_rows

    if not _prefect.in_run():
        return []
    key = f"conductor-{artifact_slug(workflow_id, max_len=30)}-{artifact_slug(task_id, max_len=30)}"
    pr = report.published.pull_request if report.published else None
    title = f"{workflow_id} / {task_id}"
    return _prefect.publish_change_artifacts(
        key, markdown=change_markdown(report, title), rows=change_rows(report),
        link=(pr.url, f"pull request #{pr.number}: {pr.title}") if pr else None,
        description=f"ai-conductor {title} (run {report.run_id})",
    )  # fmt: skip


class ImplementerAgent:
    """Fixes findings with verified changes (see `conductor implement`).

    The analysis comes from ``inputs.analysis`` (a path to analysis.json) or from an upstream
    analyzer task. Inputs (optional, see :class:`~ai_conductor.agents.inputs.ImplementInputs`):
    ``focus`` (area or list), ``attempts``, ``apply``, ``test_command`` (argv list; [] for
    none), ``test_timeout``, ``min_severity``, ``group_by`` (file or rule), ``budget``
    (``{max_tokens, max_cost_usd, max_seconds}``). The agent's ``backend`` (default builtin)
    and ``options`` (handed to the backend) choose who proposes.
    """

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    @staticmethod
    def input_problems(inputs: Mapping[str, Any]) -> list[str]:
        from ai_conductor.agents.inputs import ImplementInputs

        return ImplementInputs.problems(inputs)

    def execute(self, task: TaskSpec, context: TaskContext) -> AgentOutput:
        from ai_conductor.agents.inputs import ImplementInputs
        from ai_conductor.analysis.models import AnalysisReport
        from ai_conductor.implement import ImplementOptions, implement
        from ai_conductor.implement.budget import Budget
        from ai_conductor.reports import load_analysis

        inputs: ImplementInputs = ImplementInputs.parse(task.id, task.inputs)
        if inputs.analysis:
            analysis = load_analysis(Path(inputs.analysis))
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
        options = ImplementOptions(
            backend=self.config.backend or "builtin",
            backend_options=dict(self.config.options),
            focus=inputs.focus,
            min_severity=inputs.min_severity,
            attempts=inputs.attempts,
            apply=inputs.apply,
            test_command=inputs.test_command,
            test_timeout=inputs.test_timeout,
            group_by=inputs.group_by,
            concurrency=inputs.concurrency,
            workflow_id=context.workflow_id,
            task_id=context.task_id,
            budget=Budget(**inputs.budget.model_dump()),
            test_env=inputs.test_env,
            allow_api_changes=inputs.allow_api_changes,
            all_files=inputs.all_files,
            run_id=context.run_id,
            log=context.logger,
        )
        report = implement(analysis, context.codebase, options)

        def publication(root: Path) -> Any:
            from ai_conductor.publish import from_implement

            return from_implement(report, analysis, root, workflow_id=context.workflow_id,
                                  task_id=context.task_id)  # fmt: skip

        _deliver(report, inputs, context, publication)
        return report.model_dump(mode="json")


class RefinerAgent:
    """Tidies formatting and imports (verified, on a branch), reports type errors and, with
    ``inputs.stack``, reviews dependencies and configuration (see `conductor refine`).

    Inputs (optional, see :class:`~ai_conductor.agents.inputs.RefineInputs`): ``stack``,
    ``apply``, ``tidy`` (default true), ``types`` (default true), ``test_command`` (argv
    list), ``test_timeout``, ``test_env``, ``since``, ``analysis``, ``all_files``,
    ``allow_api_changes``. The tidy-up covers the upstream analysis' files when the task
    depends on an analyzer. An agent ``backend`` other than builtin (``openai``,
    ``anthropic``; ``options`` as for the implementer) adds a model's advice to stack findings.
    """

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    @staticmethod
    def input_problems(inputs: Mapping[str, Any]) -> list[str]:
        from ai_conductor.agents.inputs import RefineInputs

        return RefineInputs.problems(inputs)

    def execute(self, task: TaskSpec, context: TaskContext) -> AgentOutput:
        from ai_conductor.agents.inputs import RefineInputs
        from ai_conductor.analysis.models import AnalysisReport
        from ai_conductor.refine import refine
        from ai_conductor.reports import load_analysis

        inputs: RefineInputs = RefineInputs.parse(task.id, task.inputs)
        backend = self.config.backend if inputs.stack else None  # an LLM advises on the stack
        analysis = None  # the tidy-up's scope: the upstream analysis' files, when there is one
        if inputs.analysis:
            analysis = load_analysis(Path(inputs.analysis))
        elif inputs.since is None and not inputs.all_files:
            found = [
                o for o in context.upstream.values() if "schema_version" in o and "findings" in o
            ]
            analysis = AnalysisReport.model_validate(found[0]) if found else None
        report = refine(
            context.codebase,
            stack=inputs.stack,
            apply=inputs.apply,
            tidy_code=inputs.tidy,
            types=inputs.types,
            test_command=inputs.test_command,
            test_timeout=inputs.test_timeout,
            workflow_id=context.workflow_id,
            task_id=context.task_id,
            backend=backend if backend and backend != "builtin" else None,
            backend_options=dict(self.config.options),
            test_env=inputs.test_env,
            analysis=analysis,
            since=inputs.since,
            all_files=inputs.all_files,
            allow_api_changes=inputs.allow_api_changes,
            run_id=context.run_id,
            log=context.logger,
        )

        def publication(root: Path) -> Any:
            from ai_conductor.publish import from_refine

            return from_refine(report, root, workflow_id=context.workflow_id,
                               task_id=context.task_id)  # fmt: skip

        _deliver(report, inputs, context, publication)
        return report.model_dump(mode="json")
