"""Prefect flows: the workflow runner (more flows arrive with the analyzer and maintenance)."""

from ai_conductor.flows.workflow import RunRequest, workflow_flow

__all__ = ["RunRequest", "workflow_flow"]
