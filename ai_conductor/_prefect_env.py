"""Prefect environment defaults, applied by entry points before Prefect is imported."""

from __future__ import annotations

import logging
import math
import os

from ai_conductor.settings import get_settings

_SENDERS = ("EventsWorker", "APILogWorker")
"""Loggers of Prefect's queue services (``logging.getLogger(type(self).__name__)``)."""


def quiet_prefect_defaults(*, verbose: bool = False) -> None:
    """Offline-friendly defaults unless the user set them: no telemetry, no analytics.

    Without ``verbose``, Prefect's *console* handler drops to warnings so the CLI's own
    progress view stays readable; the loggers keep INFO, so flow and task runs still send
    their log lines to the Prefect API (the run's Logs tab). Lowering ``PREFECT_LOGGING_LEVEL``
    instead would drop them before any handler: the UI would say "This run didn't generate
    logs".
    Prefect's background senders (events, API logs) say "Still processing items: N items
    remaining..." at warning level when a process exits with items queued: every CLI run that
    ends while its last events are in flight. Those loggers are named after their classes,
    outside the ``prefect`` tree, so the line reached stderr through Python's last-resort
    handler; without ``verbose`` only their errors are shown.
    Prefect's temporary server gets ``CONDUCTOR_PREFECT_SERVER_START_TIMEOUT`` to come up
    (Prefect's own default, 20 s, is too short on a busy machine).
    """
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    timeout = math.ceil(get_settings().prefect_server_start_timeout)
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", str(timeout))
    if not verbose:
        os.environ.setdefault("PREFECT_LOGGING_HANDLERS_CONSOLE_LEVEL", "WARNING")
        for sender in _SENDERS:
            logging.getLogger(sender).setLevel(logging.ERROR)
