"""The one seam between ai-conductor and Prefect: project defaults for tasks and flows, set once.

Every Prefect task of the project persists its result as JSON under ``$CONDUCTOR_HOME/results``
and is cached by an explicit key (task spec + upstream results + codebase content + agent
config, computed by the engine), never by run id: a re-run after a crash reuses finished work.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar, cast

from prefect import Flow, Task, flow, task
from prefect.cache_policies import CachePolicy
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext
from prefect.results import ResultRecord  # type: ignore[attr-defined]  # re-exported at runtime

from ai_conductor import _local_server
from ai_conductor.monitoring.push import flow_run_hooks
from ai_conductor.settings import Settings

R = TypeVar("R")

RESULT_SERIALIZER = "json"


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


def conductor_flow(**options: Any) -> Callable[[Callable[..., R]], Flow[..., R]]:
    """``@flow`` with the project's defaults (parameters validated, results not persisted) and
    the hooks that push the run's metrics to a Pushgateway when one is configured."""
    defaults: dict[str, Any] = {"validate_parameters": True, "persist_result": False}
    defaults.update(options)
    for name, hooks in flow_run_hooks().items():
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


def use_shared_server(settings: Settings, on_start: Callable[[str], None]) -> str | None:
    """Point this process at the shared local Prefect server (started when none runs; then
    ``on_start(url)``) when no Prefect API is configured and ``prefect_server`` is ``shared``;
    return its URL, or None when the configured API (or Prefect's temporary server) is used.

    Prefect read its settings when it was imported, so its global settings context is rebuilt
    from the environment, as Prefect does after its plugins set variables."""
    from prefect.context import refresh_global_settings_context
    from prefect.settings import get_current_settings

    if get_current_settings().api.url or settings.prefect_server != "shared":
        return None
    url, started = _local_server.ensure(settings)
    os.environ["PREFECT_API_URL"] = url  # for this process and the processes it starts
    refresh_global_settings_context()
    if started:
        on_start(url)
    return url


@contextmanager
def local_flow_settings() -> Iterator[None]:
    """Settings for a flow run this process starts and waits for (``run_spec``): no flow-run
    heartbeats unless the user configured them (PREFECT_FLOWS_HEARTBEAT_FREQUENCY).

    Prefect's engine joins its heartbeat thread at the end of every flow run, and that thread
    sleeps in one-second steps: 0.8-0.9 s of a 2-task run's 1.2 s here. Heartbeats serve
    automations that spot crashed runs of workers and deployments, which keep Prefect's default;
    a local run's crash is seen by its caller, and its finished tasks are reused on a re-run."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        get_current_settings,
        temporary_settings,
    )

    if "heartbeat_frequency" in get_current_settings().flows.model_fields_set:
        yield
        return
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
        yield


def secret_value(name: str, *, origin: str) -> str:
    """The value of the Prefect ``Secret`` block ``name`` (``origin``: the setting naming it);
    a ConfigError naming the block (never its value) when it cannot be loaded."""
    from prefect.blocks.system import Secret

    from ai_conductor.errors import ConfigError

    try:
        value = Secret.load(name, _sync=True).get()  # type: ignore[call-arg, union-attr]
    except Exception as exc:  # prefect raises ValueError, httpx errors, validation errors
        raise ConfigError(
            f"cannot load the Prefect Secret block {name!r} ({origin}): {type(exc).__name__}; "
            f"create it with Secret(value=...).save({name!r}) and check PREFECT_API_URL"
        ) from None
    if not isinstance(value, str) or not value:
        raise ConfigError(f"the Prefect Secret block {name!r} ({origin}) holds no text token")
    return value


def in_run() -> bool:
    """True inside a Prefect flow or task run (artifacts and the run logger are available)."""
    from prefect.context import FlowRunContext

    return TaskRunContext.get() is not None or FlowRunContext.get() is not None


def publish_change_artifacts(
    key: str, *, markdown: str, rows: list[dict[str, Any]], link: tuple[str, str] | None,
    description: str,
) -> list[str]:  # fmt: skip
    """Keyed artifacts of an implement or refine step: ``<key>-summary`` (Markdown),
    ``<key>-changes`` (table) and, when a pull request was published, ``<key>-pull-request``
    (a link). ``key`` must already be a valid artifact key. Returns the keys."""
    from prefect.artifacts import (
        create_link_artifact,
        create_markdown_artifact,
        create_table_artifact,
    )

    create_markdown_artifact(markdown, key=f"{key}-summary", description=description)
    create_table_artifact(table=rows or [{"group": "", "status": "no changes", "branch": "",
                                          "pull_request": "", "reason": ""}],
                          key=f"{key}-changes", description=description)  # fmt: skip
    keys = [f"{key}-summary", f"{key}-changes"]
    if link is not None:
        create_link_artifact(link=link[0], link_text=link[1], key=f"{key}-pull-request",
                             description=description)  # fmt: skip
        keys.append(f"{key}-pull-request")
    return keys
