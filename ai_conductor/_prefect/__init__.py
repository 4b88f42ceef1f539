"""The one seam between ai-conductor and Prefect.

Outside this package only ``flows/``, ``tasks/``, ``blocks/`` and ``deployments/`` import
prefect (import-linter checks it, see pyproject.toml). Here: ``@task``/``@flow`` with the
project's defaults and a registry of flow-run hooks (monitoring adds its own), whether a Prefect
API is configured and its client, the current run (its id, its logger), runs of deployments,
artifacts, and the blocks the library loads by name (``Secret``, ``SqlAlchemyConnector``).

Importing it imports Prefect: entry points call
:func:`ai_conductor._prefect_env.quiet_prefect_defaults` first (it must run before Prefect reads
its settings, so it lives outside this package, as does the shared local server it may start,
:mod:`ai_conductor._local_server`, which runs ``prefect server start`` as a process).
"""

from prefect import Flow
from prefect.client.schemas.objects import FlowRun, State

from ai_conductor._prefect._api import (
    EPHEMERAL_TIMEOUT,
    api_configured,
    api_errors,
    api_url,
    async_client,
    local_flow_settings,
    sync_client,
    use_shared_server,
)
from ai_conductor._prefect._artifacts import (
    link_artifact,
    markdown_artifact,
    publish_change_artifacts,
    table_artifact,
)
from ai_conductor._prefect._blocks import load_secret, load_sqlalchemy_connector, secret_value
from ai_conductor._prefect._decorators import (
    FLOW_HOOKS,
    RESULT_SERIALIZER,
    ExplicitKey,
    completed_value,
    conductor_flow,
    conductor_task,
    register_flow_hooks,
    retry_if_retryable,
    storage_for,
)
from ai_conductor._prefect._runs import (
    cancel_flow_run,
    current_flow_run_id,
    deployment_exists,
    deployment_name,
    flow_run_logger,
    in_run,
    in_task_run,
    read_flow_run,
    run_logger,
    start_deployment,
)

__all__ = [
    "EPHEMERAL_TIMEOUT",
    "FLOW_HOOKS",
    "RESULT_SERIALIZER",
    "ExplicitKey",
    "Flow",
    "FlowRun",
    "State",
    "api_configured",
    "api_errors",
    "api_url",
    "async_client",
    "cancel_flow_run",
    "completed_value",
    "conductor_flow",
    "conductor_task",
    "current_flow_run_id",
    "deployment_exists",
    "deployment_name",
    "flow_run_logger",
    "in_run",
    "in_task_run",
    "link_artifact",
    "load_secret",
    "load_sqlalchemy_connector",
    "local_flow_settings",
    "markdown_artifact",
    "publish_change_artifacts",
    "read_flow_run",
    "register_flow_hooks",
    "retry_if_retryable",
    "run_logger",
    "secret_value",
    "start_deployment",
    "storage_for",
    "sync_client",
    "table_artifact",
    "use_shared_server",
]
