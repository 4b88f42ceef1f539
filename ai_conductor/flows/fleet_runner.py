"""The fleet flow's task runner, chosen per run: Prefect threads or prefect-dask.

prefect-dask is an optional dependency (``pip install 'ai-conductor[dask]'``): it is imported
only when a run asks for ``task_runner: dask``.
"""

from __future__ import annotations

from typing import Any

from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner

from ai_conductor.errors import UsageError
from ai_conductor.flows.fleet_models import FleetRequest


def local_cluster(**cluster_kwargs: Any) -> Any:
    """A ``distributed.LocalCluster`` whose worker processes may start processes of their own.

    Dask's workers are daemonic by default, and a daemonic process cannot have children: the
    analyzer's process pool (bandit and radon on more than a few files) would fail in them.
    """
    import dask  # type: ignore[import-not-found]
    import distributed  # type: ignore[import-not-found]

    with dask.config.set({"distributed.worker.daemon": False}):
        return distributed.LocalCluster(**cluster_kwargs)  # type: ignore[no-untyped-call]


def build_task_runner(request: FleetRequest) -> TaskRunner[Any]:
    """``ThreadPoolTaskRunner(max_workers=max_concurrency)``, or a ``DaskTaskRunner``: on the
    scheduler at ``dask_address`` (its workers bound the concurrency), else on a local cluster
    of ``max_concurrency`` single-threaded worker processes."""
    if request.task_runner == "threads":
        return ThreadPoolTaskRunner(max_workers=request.max_concurrency)
    try:
        from prefect_dask.task_runners import DaskTaskRunner  # type: ignore[import-not-found]
    except ImportError:
        raise UsageError(
            "task_runner 'dask' needs prefect-dask: pip install 'ai-conductor[dask]'"
        ) from None
    if request.dask_address:
        runner: TaskRunner[Any] = DaskTaskRunner(address=request.dask_address)
    else:
        workers = {
            "n_workers": request.max_concurrency,
            "threads_per_worker": 1,
            "dashboard_address": ":0",  # any free port, not a fixed 8787 per run
        }
        runner = DaskTaskRunner(cluster_class=local_cluster, cluster_kwargs=workers)
    return runner
