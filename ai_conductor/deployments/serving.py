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

from pydantic import BaseModel, Field

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


class ServeStop(BaseModel):
    """How a ``serve_project`` ended: which served deployments were paused on the way out."""

    paused: list[str] = Field(default_factory=list)
    """``flow/deployment`` names paused (or already paused) when serving stopped."""
    not_paused: dict[str, str] = Field(default_factory=dict)
    """``flow/deployment`` names left as they were, with the reason (the API failed, or a
    second Ctrl-C cut the shutdown short)."""


def serve_project(
    project: PrefectProject, names: Sequence[str] = (), *, limit: int | None = None
) -> ServeStop:
    """Serve the chosen deployments until SIGTERM or Ctrl-C, then pause them.

    This is ``prefect.serve`` (a ``Runner`` with each deployment added) with two windows closed.
    ``prefect.serve`` applies the deployments (they are active on the API from then on) before
    its runner starts and installs its SIGTERM handler; a signal in between killed the process
    (SIGTERM) or left the runner without anything to pause (Ctrl-C), so deployments stayed
    active although the runner said it paused them. Here SIGTERM takes Ctrl-C's path from the
    start (Prefect 3.8's own handler exits from inside the event loop, printing tracebacks of
    cancelled connections), the deployments are applied inside the same cancellable coroutine
    as the runner, and every deployment whose apply began is paused on the way out, however
    far serving got. Runs start in the current working directory; the CLI changes into the
    project directory first, as the pull step ``prefect deploy`` records does for workers.
    """
    stop = ServeStop()
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        with contextlib.suppress(KeyboardInterrupt):  # the way out, after the runner stopped
            asyncio.run(_serve(runner_deployments(project, names), limit, stop))
    finally:
        signal.signal(signal.SIGTERM, previous)
    return stop


async def _serve(deployments: list[RunnerDeployment], limit: int | None, stop: ServeStop) -> None:
    from prefect.runner import Runner

    runner = Runner(pause_on_shutdown=False, limit=limit)  # paused below, whatever happened
    runner.handle_sigterm = _interrupt  # type: ignore[method-assign]
    begun: list[RunnerDeployment] = []
    try:
        for deployment in deployments:
            begun.append(deployment)  # before the apply: a cancelled apply may have landed
            await runner.aadd_deployment(deployment)
        await runner.start()
    finally:
        await _pause(begun, stop)


async def _pause(deployments: list[RunnerDeployment], stop: ServeStop) -> None:
    """Pause each deployment by name; a second Ctrl-C or an API failure is recorded, not raised
    (the names not reached are reported as not paused)."""
    from prefect.exceptions import ObjectNotFound

    from ai_conductor._prefect import async_client

    names = [f"{d.flow_name}/{d.name}" for d in deployments]
    stop.not_paused = dict.fromkeys(names, "serving was interrupted while pausing")
    async with async_client() as client:
        for name in names:
            try:
                found = await client.read_deployment_by_name(name)
                await client.pause_deployment(found.id)
            except ObjectNotFound:  # its apply never reached the API: nothing to pause
                del stop.not_paused[name]
                continue
            except Exception as exc:  # the API failed: say which one stays active, and why
                stop.not_paused[name] = f"{type(exc).__name__}: {exc}"
                continue
            del stop.not_paused[name]
            stop.paused.append(name)


def _interrupt(*_: object) -> None:
    signal.raise_signal(signal.SIGINT)
