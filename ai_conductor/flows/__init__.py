"""Prefect flows: the workflow runner, audit, fleet audit, improve and maintenance.

Monitoring's flow-run hooks (the Pushgateway push) are registered before any flow is defined,
so every ``conductor_flow`` carries them.
"""

from ai_conductor.monitoring import push as _push

_push.register()

from ai_conductor.flows.workflow import RunRequest, workflow_flow  # noqa: E402

__all__ = ["RunRequest", "workflow_flow"]
