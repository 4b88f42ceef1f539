"""Prefect tasks: thin wrappers that call agents and record what happens to the audit log."""

from ai_conductor.tasks.agent_step import StepInput, agent_step

__all__ = ["StepInput", "agent_step"]
