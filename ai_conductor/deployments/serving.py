"""prefect.yaml deployments as Prefect ``RunnerDeployment``s, served by this process.

Prefect's serve (a ``Runner``) registers each deployment (with its schedules) on the API, polls for
their scheduled and manual runs and executes them in subprocesses; no work pool or worker is
involved, so ``work_pool`` and its ``job_variables`` do not apply. On SIGTERM or Ctrl-C it stops
and pauses the deployments it served (their schedules would pile up late runs otherwise);
serving them again resumes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from ai_conductor.deployments.entrypoints import load_flow
from ai_conductor.deployments.project import PrefectProject, ScheduleEntry

if TYPE_CHECKING:
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.deployments.runner import RunnerDeployment


def to_prefect_schedule(entry: ScheduleEntry) -> DeploymentScheduleCreate:
    """The Prefect schedule ``prefect deploy`` would make of ``entry``.

    Raises pydantic's ``ValidationError`` (bad cron, unknown timezone) or ``ValueError``.
    """
    from prefect.client.schemas.actions import DeploymentScheduleCreate
    from prefect.client.schemas.schedules import CronSchedule, IntervalSchedule, RRuleSchedule

    kinds = [k for k in ("cron", "interval", "rrule") if getattr(entry, k) is not None]
    if len(kinds) != 1:
        raise ValueError(f"give exactly one of cron, interval or rrule (got {kinds or 'none'})")
    tz: dict[str, Any] = {"timezone": entry.timezone} if entry.timezone else {}
    schedule: CronSchedule | IntervalSchedule | RRuleSchedule
    if entry.cron is not None:
        day_or = {} if entry.day_or is None else {"day_or": entry.day_or}
        schedule = CronSchedule(cron=entry.cron, **tz, **day_or)
    elif entry.interval is not None:
        if entry.interval <= timedelta(0):
            raise ValueError("interval must be positive")
        anchor = {"anchor_date": entry.anchor_date} if entry.anchor_date else {}
        schedule = IntervalSchedule(interval=entry.interval, **tz, **anchor)
    else:
        schedule = RRuleSchedule(rrule=str(entry.rrule), **tz)
    extra = {k: v for k, v in (("slug", entry.slug), ("replaces", entry.replaces)) if v}
    return DeploymentScheduleCreate(
        schedule=schedule, active=entry.active, parameters=entry.parameters, **extra
    )


def runner_deployments(
    project: PrefectProject, names: Sequence[str] = ()
) -> list[RunnerDeployment]:
    """One ``RunnerDeployment`` per chosen deployment (``names``; default all), with its
    parameters, schedules, description and tags; flows of installed packages are referenced
    by module path, others by file path relative to the working directory."""
    from prefect.types.entrypoint import EntrypointType

    deployments = []
    for entry in project.select(tuple(names)):
        flow, as_package = load_flow(project.directory, entry.entrypoint)
        kind = EntrypointType.MODULE_PATH if as_package else EntrypointType.FILE_PATH
        # called from sync code, Prefect's async_dispatch returns the sync variant's result
        deployment = cast(
            "RunnerDeployment",
            flow.to_deployment(
                name=entry.name,
                parameters=entry.parameters,
                schedules=[to_prefect_schedule(s) for s in entry.schedules],
                description=entry.description,
                tags=entry.tags,
                paused=entry.paused,
                entrypoint_type=kind,
            ),
        )
        deployments.append(deployment)
    return deployments


def serve_project(
    project: PrefectProject, names: Sequence[str] = (), *, limit: int | None = None
) -> None:
    """Serve the chosen deployments until SIGTERM or Ctrl-C (then they are paused).

    This is ``prefect.serve`` (a ``Runner`` with each deployment added) except for SIGTERM:
    Prefect 3.8's handler exits from inside the event loop, which pauses the deployments but
    prints asyncio tracebacks of cancelled connections; here SIGTERM takes Ctrl-C's path
    (the main task is cancelled, the runner stops and pauses, nothing is left half-closed).
    Runs start in the current working directory; the CLI changes into the project directory
    first, as the pull step ``prefect deploy`` records does for workers.
    """
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=True, limit=limit)
    for deployment in runner_deployments(project, names):
        runner.add_deployment(deployment)
    runner.handle_sigterm = _interrupt  # type: ignore[method-assign]
    with contextlib.suppress(KeyboardInterrupt):  # the way out, after the runner stopped
        asyncio.run(runner.start())


def _interrupt(*_: object) -> None:
    signal.raise_signal(signal.SIGINT)
