"""``@task`` and ``@flow`` with the project's defaults, and the flow-run hooks other layers add.

Every Prefect task of the project persists its result as JSON under ``$CONDUCTOR_HOME/results``
and is cached by an explicit key (task spec + upstream results + codebase content + agent
config, computed by the engine), never by run id: a re-run after a crash reuses finished work.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, TypeVar, cast

from prefect import Flow, Task, flow, task
from prefect.cache_policies import CachePolicy
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext
from prefect.results import ResultRecord  # type: ignore[attr-defined]  # re-exported at runtime

R = TypeVar("R")

RESULT_SERIALIZER = "json"
FLOW_HOOKS: Final = ("on_running", "on_completion", "on_failure", "on_crashed", "on_cancellation")
"""The ``@flow`` keywords :func:`register_flow_hooks` accepts."""
_flow_hooks: dict[str, list[Callable[..., None]]] = {name: [] for name in FLOW_HOOKS}


class ExplicitKey(CachePolicy):
    """Cache key = the ``cache_key`` attribute of the task's single ``step`` parameter."""

    def compute_key(
        self,
        task_ctx: TaskRunContext,
        inputs: dict[str, Any],
        flow_parameters: dict[str, Any],
        **kwargs: Any,
    ) -> str | None:
        step = inputs.get("step")
        key = getattr(step, "cache_key", None)
        return key if isinstance(key, str) and key else None


def retry_if_retryable(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
    """Retry unless the error says trying again cannot help (``retryable = False``)."""
    return bool(getattr(state.data, "retryable", True))


def conductor_task(**options: Any) -> Callable[[Callable[..., R]], Task[..., R]]:
    """``@task`` with the project's defaults: JSON results, explicit cache key, retry filter."""
    defaults: dict[str, Any] = {
        "persist_result": True,
        "result_serializer": RESULT_SERIALIZER,
        "cache_policy": ExplicitKey(),
        "retry_condition_fn": retry_if_retryable,
        "log_prints": False,
    }
    defaults.update(options)

    def wrap(fn: Callable[..., R]) -> Task[..., R]:
        return task(fn, **defaults)

    return wrap


def register_flow_hooks(hooks: Mapping[str, Sequence[Callable[..., None]]]) -> None:
    """Add ``hooks`` (by ``@flow`` keyword, e.g. ``on_completion``) to every flow that
    :func:`conductor_flow` decorates from now on; a hook already registered is not added twice.
    Monitoring registers its metric-push hooks this way (the flows package imports it first)."""
    for name, extra in hooks.items():
        if name not in _flow_hooks:
            raise ValueError(f"not a flow-run hook: {name!r} (one of {', '.join(FLOW_HOOKS)})")
        _flow_hooks[name].extend(h for h in extra if h not in _flow_hooks[name])


def conductor_flow(**options: Any) -> Callable[[Callable[..., R]], Flow[..., R]]:
    """``@flow`` with the project's defaults (parameters validated, results not persisted) and
    the registered flow-run hooks (:func:`register_flow_hooks`)."""
    defaults: dict[str, Any] = {"validate_parameters": True, "persist_result": False}
    defaults.update(options)
    for name, hooks in _flow_hooks.items():
        if hooks:
            defaults[name] = [*(defaults.get(name) or []), *hooks]

    def wrap(fn: Callable[..., R]) -> Flow[..., R]:
        return flow(fn, **defaults)

    return wrap


def completed_value(state: State[R]) -> R:
    """The value of a completed state, read from the in-memory result record when it is there.

    ``State.result()`` would round-trip through an event loop for every task; the engine
    collects hundreds of these, so it takes the record Prefect already holds.
    """
    data = state.data
    if isinstance(data, ResultRecord):
        return cast(R, data.result)
    return state.result()  # type: ignore[return-value]


def storage_for(results_dir: Path) -> Path:
    """Result storage for a run: a plain directory (a ``str`` would be read as a block slug)."""
    results_dir.mkdir(parents=True, exist_ok=True)
    return results_dir
