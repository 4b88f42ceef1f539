"""Agents used by the tests, loaded by import path ("tests.agents:Name") like any plugin."""

from __future__ import annotations

import threading
import time
from typing import Any

from ai_conductor.protocols import TaskContext
from ai_conductor.spec import AgentConfig, TaskSpec


class UpstreamEcho:
    """Returns what it received from its dependencies."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    def execute(self, task: TaskSpec, context: TaskContext) -> dict[str, Any]:
        return {"upstream": dict(context.upstream), "attempt": context.attempt}


class Gauge:
    """Measures how many Gauge tasks run at the same moment."""

    lock = threading.Lock()
    current = 0
    peak = 0

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    @classmethod
    def reset(cls) -> None:
        cls.current = cls.peak = 0

    def execute(self, task: TaskSpec, context: TaskContext) -> dict[str, Any]:
        with Gauge.lock:
            Gauge.current += 1
            Gauge.peak = max(Gauge.peak, Gauge.current)
        time.sleep(float(task.inputs.get("hold", 0.3)))
        with Gauge.lock:
            Gauge.current -= 1
        return {"ok": True}


class AsyncEcho:
    """An async agent: returns its inputs after yielding to the loop."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    async def execute(self, task: TaskSpec, context: TaskContext) -> dict[str, Any]:
        import asyncio

        await asyncio.sleep(float(task.inputs.get("sleep", 0)))
        return dict(task.inputs)


class PrefectSettingsProbe:
    """Returns the Prefect settings its task runs under (what the run's engine sees)."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config

    def execute(self, task: TaskSpec, context: TaskContext) -> dict[str, Any]:
        from prefect.settings import get_current_settings

        return {"heartbeat_frequency": get_current_settings().flows.heartbeat_frequency}
