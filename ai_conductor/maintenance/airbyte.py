"""Trigger an Airbyte connection's sync through the official ``airbyte-api`` SDK and wait for it.

The job is polled until Airbyte reports a final status; past ``timeout`` it is cancelled. Every
outcome is one ``airbyte-sync`` row in the audit log. Messages never contain secrets.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel

from ai_conductor.errors import ConductorError, UsageError
from ai_conductor.maintenance.airbyte_config import AirbyteConfig, resolve_airbyte_config
from ai_conductor.maintenance.airbyte_errors import AirbyteError, call
from ai_conductor.settings import Settings, get_settings

if TYPE_CHECKING:
    from airbyte_api import AirbyteAPI
    from airbyte_api.models import JobResponse

FINAL = frozenset({"succeeded", "failed", "cancelled", "incomplete"})
SyncStatus = Literal["succeeded", "failed", "cancelled", "incomplete", "timed_out"]


class AirbyteSyncFailed(AirbyteError):
    """The sync job ended without succeeding (or ran past the timeout); ``result`` has the job."""

    def __init__(self, message: str, result: AirbyteSyncResult) -> None:
        super().__init__(message)
        self.result = result


class AirbyteSyncResult(BaseModel):
    """The outcome of one sync job, as Airbyte reported it."""

    connection_id: str
    """The connection that was synced."""
    job_id: int
    """Airbyte's job id."""
    status: SyncStatus
    """Airbyte's final job status, or ``timed_out`` when conductor stopped waiting and cancelled."""
    duration_seconds: float
    """Wall time from the trigger to the final status, measured here."""
    airbyte_duration: str | None = None
    """The job's duration as Airbyte reports it (ISO 8601)."""
    bytes_synced: int | None = None
    """Bytes moved, when Airbyte reports it."""
    rows_synced: int | None = None
    """Records moved, when Airbyte reports it."""
    polls: int = 0
    """Status checks made after the trigger."""
    server_url: str
    """The Airbyte API the job ran on."""
    note: str | None = None
    """How a timed-out wait ended: the cancel request was sent, or why it failed."""

    @property
    def ok(self) -> bool:
        return self.status == "succeeded"


def _job(response: Any, config: AirbyteConfig, what: str) -> JobResponse:
    job: JobResponse | None = response.job_response
    if job is None:
        raise AirbyteError(f"Airbyte at {config.shown_url} sent no job to {what}")
    return job


def _cancel(sdk: AirbyteAPI, config: AirbyteConfig, job_id: int) -> str:
    from airbyte_api import api

    request = api.CancelJobRequest(job_id=job_id)
    try:
        call(config, f"cancel job {job_id}", lambda: sdk.jobs.cancel_job(request=request))
    except ConductorError as exc:
        return f"cancelling the job failed: {exc}"
    return "cancellation was requested"


def _poll(
    sdk: AirbyteAPI, config: AirbyteConfig, timeout: float, interval: float
) -> dict[str, Any]:
    from airbyte_api import api, models, utils

    start = time.monotonic()
    request = models.JobCreateRequest(
        connection_id=config.connection_id, job_type=models.JobTypeEnum.SYNC
    )
    what = f"start a sync of connection {config.connection_id}"
    job = _job(call(config, what, lambda: sdk.jobs.create_job(request=request)), config, what)
    retry = utils.RetryConfig(
        "backoff", utils.BackoffStrategy(200, 5_000, 1.5, 30_000, jitter_ms=100), True
    )
    polls, status, note = 0, job.status.value, None
    while status not in FINAL:
        remaining = start + timeout - time.monotonic()
        if remaining <= 0:
            note = _cancel(sdk, config, job.job_id)
            status = "timed_out"
            break
        time.sleep(min(interval, remaining))
        what = f"check job {job.job_id}"
        check = partial(
            sdk.jobs.get_job, request=api.GetJobRequest(job_id=job.job_id), retries=retry
        )
        job = _job(call(config, what, check), config, what)
        polls, status = polls + 1, job.status.value
    return {
        "connection_id": config.connection_id, "job_id": job.job_id, "status": status,
        "duration_seconds": round(time.monotonic() - start, 3), "polls": polls,
        "airbyte_duration": job.duration, "bytes_synced": job.bytes_synced,
        "rows_synced": job.rows_synced, "server_url": config.shown_url, "note": note,
    }  # fmt: skip


def run_sync(config: AirbyteConfig, *, timeout: float, poll_interval: float) -> AirbyteSyncResult:
    """Trigger and wait; the result has whatever final status Airbyte reported (no audit row)."""
    if timeout <= 0 or poll_interval <= 0:
        raise UsageError("--timeout and the poll interval must be positive numbers of seconds")
    with config.client() as sdk:
        return AirbyteSyncResult.model_validate(_poll(sdk, config, timeout, poll_interval))


def airbyte_sync(
    settings: Settings | None = None,
    *,
    connection_id: str | None = None,
    timeout: float = 3600.0,
    poll_interval: float = 10.0,
) -> AirbyteSyncResult:
    """Sync the configured (or given) connection; raise unless the job succeeded.

    Raises ``ConfigError`` for missing or rejected configuration, ``AirbyteError`` when the API
    fails, and ``AirbyteSyncFailed`` (with ``.result``) for a failed, cancelled, incomplete or
    timed-out job. The audit log gets one ``maintenance``/``airbyte-sync`` row either way.
    """
    from ai_conductor.maintenance.outcome import record_outcome

    settings = settings or get_settings()
    config = resolve_airbyte_config(settings, connection_id)
    try:
        result = run_sync(config, timeout=timeout, poll_interval=poll_interval)
        if result.status == "timed_out":
            raise AirbyteSyncFailed(
                f"Airbyte job {result.job_id} (connection {result.connection_id}) did not finish "
                f"within {timeout:g}s; {result.note}",
                result,
            )
        if not result.ok:
            raise AirbyteSyncFailed(
                f"Airbyte job {result.job_id} (connection {result.connection_id}) ended "
                f"{result.status}",
                result,
            )
    except ConductorError as exc:
        done = exc.result.model_dump(mode="json") if isinstance(exc, AirbyteSyncFailed) else {}
        record_outcome(settings, "airbyte-sync", done, error=exc)
        raise
    record_outcome(settings, "airbyte-sync", result.model_dump(mode="json"))
    return result
