"""Parameters of server runs, one pydantic model per kind (validated at submit time)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ai_conductor.errors import UsageError

RunKind = Literal["analyze", "workflow", "implement"]
ServerRunStatus = Literal["pending", "running", "completed", "failed", "cancelled"]
"""Where a server run is (HTTP API, MCP tools, the audit log's ``server-run`` rows). Not to be
confused with :class:`ai_conductor.results.RunStatus`, a finished workflow's outcome."""
FINAL_STATUSES: frozenset[ServerRunStatus] = frozenset({"completed", "failed", "cancelled"})


class _Params(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnalyzeParams(_Params):
    """Analyze a codebase with the builtin analyzer tools."""

    codebase: str = Field(min_length=1, max_length=4096)
    """Codebase directory (inside the allowed roots; relative: to the first root)."""
    focus: list[str] = Field(default_factory=list, max_length=16)
    """Focus areas: security, performance, complexity, database, api, algorithms, bugs, style."""
    tools: list[str] | None = Field(default=None, max_length=16)
    """Analyzer tools to run (default: ruff, bandit, radon)."""


class WorkflowParams(_Params):
    """Run a workflow spec, given by path or inline."""

    spec_path: str | None = Field(default=None, min_length=1, max_length=4096)
    """Path of a YAML or JSON workflow spec (inside the allowed roots)."""
    spec: dict[str, Any] | None = None
    """An inline workflow spec (the same fields as a spec file)."""
    codebase: str | None = Field(default=None, min_length=1, max_length=4096)
    """Codebase to run against (default: the spec's ``codebase``)."""

    @model_validator(mode="after")
    def _one_spec(self) -> WorkflowParams:
        if (self.spec_path is None) == (self.spec is None):
            raise ValueError("give exactly one of spec_path or spec")
        return self


class ImplementParams(_Params):
    """Propose verified changes for the findings of an analysis."""

    analysis: str | None = Field(default=None, min_length=1, max_length=4096)
    """Path of an analysis.json (inside the allowed roots)."""
    analysis_run_id: str | None = Field(default=None, min_length=1, max_length=64)
    """Run id of a finished ``analyze`` server run, instead of ``analysis``."""
    codebase: str | None = Field(default=None, min_length=1, max_length=4096)
    """Codebase to change (default: the analysed one)."""
    backend: str = Field(default="builtin", min_length=1, max_length=64)
    """Implementer backend: builtin, openai, anthropic, or a CLI agent."""
    focus: list[str] = Field(default_factory=list, max_length=16)
    """Only findings in these focus areas."""
    apply: bool = False
    """Apply verified changes to the checkout (default: keep them on branches only)."""

    @model_validator(mode="after")
    def _one_analysis(self) -> ImplementParams:
        if (self.analysis is None) == (self.analysis_run_id is None):
            raise ValueError("give exactly one of analysis or analysis_run_id")
        return self


PARAMS: dict[str, type[_Params]] = {
    "analyze": AnalyzeParams,
    "workflow": WorkflowParams,
    "implement": ImplementParams,
}


def parse_params(kind: str, params: dict[str, Any]) -> _Params:
    """``params`` validated for ``kind``; :class:`UsageError` listing every problem."""
    model = PARAMS.get(kind)
    if model is None:
        raise UsageError(f"unknown run kind {kind!r}; choose from: {', '.join(PARAMS)}")
    try:
        return model.model_validate(params)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'params'}: {e['msg']}" for e in exc.errors()
        )
        raise UsageError(f"invalid {kind} parameters: {problems}") from None
