"""The Prefect API the deployments go to: configured, reachable, and holding their work pools."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ai_conductor.deployments.project import Problem

POOL_TYPE = "process"
NO_SERVER_HINT = (
    "start one with `prefect server start` and `export PREFECT_API_URL=http://127.0.0.1:4200/api`, "
    "or use Prefect Cloud: `prefect cloud login`"
)


def api_url() -> str | None:
    """PREFECT_API_URL as Prefect resolves it (environment, then the active profile)."""
    from ai_conductor._prefect import api_url as configured_url

    return configured_url()


def api_problems(*, required: bool) -> list[Problem]:
    """Why the Prefect API cannot be used; ``required``: an unset PREFECT_API_URL is a problem
    (deploying needs a server that outlives this process)."""
    url = api_url()
    if url is None:
        if not required:
            return []
        return [Problem(message="PREFECT_API_URL is not set: deployments are registered on a "
                        "Prefect server", hint=NO_SERVER_HINT)]  # fmt: skip
    from ai_conductor._prefect import sync_client

    with sync_client(timeout=10) as client:
        error = client.api_healthcheck()
    if error is None:
        return []
    reason = f"{type(error).__name__}: {error}".strip().rstrip(":")
    return [Problem(message=f"the Prefect API at {url} is unreachable ({reason})",
                    hint="is the server running? " + NO_SERVER_HINT)]  # fmt: skip


def missing_pools(names: Iterable[str]) -> list[str]:
    """The work pools among ``names`` that the Prefect API does not have."""
    from prefect.exceptions import ObjectNotFound

    from ai_conductor._prefect import sync_client

    missing = []
    with sync_client() as client:
        for name in sorted(set(names)):
            try:
                client.read_work_pool(name)
            except ObjectNotFound:
                missing.append(name)
    return missing


def create_pools(names: Iterable[str], say: Callable[[str], None] = lambda _: None) -> list[str]:
    """Create each missing work pool in ``names`` as a process pool (Prefect's default job
    template, as `prefect work-pool create NAME --type process` would); return those created."""
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists
    from prefect.workers.process import ProcessWorker

    from ai_conductor._prefect import sync_client

    created = []
    template = ProcessWorker.get_default_base_job_template()
    with sync_client() as client:
        for name in missing_pools(names):
            try:
                client.create_work_pool(
                    WorkPoolCreate(name=name, type=POOL_TYPE, base_job_template=template)
                )
            except ObjectAlreadyExists:  # created meanwhile by someone else: fine
                continue
            created.append(name)
            say(f"created work pool {name!r} (type {POOL_TYPE})")
    return created


def pool_problems(names: Iterable[str]) -> list[Problem]:
    """One problem per work pool the deployments name that does not exist."""
    return [
        Problem(
            message=f"work pool {name!r} does not exist, so no worker would pick up the runs",
            hint=f"pass --create-pool, or `prefect work-pool create {name} --type process`; "
            f"then start a worker: `prefect worker start --pool {name}`",
        )
        for name in missing_pools(names)
    ]
