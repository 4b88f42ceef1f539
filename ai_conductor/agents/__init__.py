"""Agents: the role implementations and the registry that finds them by name."""

from ai_conductor.agents.registry import ENTRY_POINT_GROUP, Registry, default_registry

__all__ = ["ENTRY_POINT_GROUP", "Registry", "default_registry"]
