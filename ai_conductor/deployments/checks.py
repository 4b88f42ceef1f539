"""Everything that would make ``prefect deploy`` or ``conductor serve`` fail or misbehave, found
before either runs: one list of clear problems instead of the first traceback."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ai_conductor.deployments.entrypoints import EntrypointError, load_flow, parameter_problems
from ai_conductor.deployments.project import DeploymentEntry, Problem, ScheduleEntry, read_project
from ai_conductor.deployments.server import api_problems, create_pools, pool_problems

# resolved by `prefect deploy` and stored in the deployment record in clear text
_SECRET_PLACEHOLDER = re.compile(
    r"\{\{\s*(prefect\.blocks\.[^}]*|\$\w*(?i:key|token|secret|passw|credential|auth)\w*)\s*\}\}"
)


def check_project(
    prefect_file: Path = Path("prefect.yaml"),
    *,
    names: Sequence[str] = (),
    server: bool = True,
    deploy: bool = True,
    create_pool: bool = False,
    say: Callable[[str], None] = lambda _: None,
) -> list[Problem]:
    """Every problem with the deployments of ``prefect_file`` (empty: all good).

    Always: the file reads as YAML; names are unique; each chosen deployment (``names``, default
    all) has an entrypoint that imports as a Prefect flow, parameters valid for that flow
    (complete when a schedule starts runs), valid cron/interval/rrule schedules and IANA
    timezones, and no ``{{ prefect.blocks.* }}`` or secret-named ``{{ $ENV }}`` placeholder
    (``prefect deploy`` would store the resolved secret in the deployment). With ``server``:
    PREFECT_API_URL is reachable (and set, with ``deploy``). With ``deploy``: each deployment
    names a work pool that exists; ``create_pool`` creates missing ones as process pools first
    (``say`` reports them).
    """
    project, problems = read_project(prefect_file)
    if project is None:
        return problems
    counts = Counter(d.name for d in project.deployments)
    problems += [Problem(deployment=name, message=f"{n} deployments have this name")
                 for name, n in counts.items() if n > 1]  # fmt: skip
    known = list(dict.fromkeys(d.name for d in project.deployments))
    problems += [Problem(message=f"no deployment named {name!r} in {project.path.name}",
                         hint=f"choose from: {', '.join(known)}")
                 for name in names if name not in known]  # fmt: skip
    chosen = project.select(tuple(names))
    for entry in chosen:
        found = _deployment(entry, project.directory)
        if deploy and not (entry.work_pool and entry.work_pool.name):
            found.append("no work_pool.name (prefect deploy needs one, e.g. conductor-process)")
        problems += [Problem(deployment=entry.name, message=m) for m in found]
    if not server:
        return problems
    unreachable = api_problems(required=deploy)
    problems += unreachable
    if deploy and not unreachable:
        pools = {e.work_pool.name for e in chosen if e.work_pool and e.work_pool.name}
        if create_pool:
            create_pools(pools, say)
        problems += pool_problems(pools)
    return problems


def _deployment(entry: DeploymentEntry, directory: Path) -> list[str]:
    problems = [
        f"{where} uses {match}: prefect deploy resolves it and stores the value in the "
        "deployment record, in clear text in the UI and API; keep secrets in blocks and name "
        "the block in a CONDUCTOR_*_BLOCK setting instead"
        for where, match in _placeholders(entry.model_dump(mode="json"), "")
    ]
    for index, schedule in enumerate(entry.schedules):
        problems += [f"schedules[{index}]: {m}" for m in schedule_problems(schedule)]
    try:
        flow, _ = load_flow(directory, entry.entrypoint)
    except EntrypointError as exc:
        return [*problems, str(exc)]
    problems += parameter_problems(flow, entry.parameters, complete=False)
    for index, schedule in enumerate(entry.schedules):
        if not problems:
            merged = entry.parameters | schedule.parameters
            found = parameter_problems(flow, merged, complete=True)
            problems += [f"schedules[{index}] starts runs with invalid {m}" for m in found]
    return problems


def schedule_problems(schedule: ScheduleEntry) -> list[str]:
    """What Prefect would refuse in ``schedule`` (cron syntax, timezone, exactly one kind)."""
    from ai_conductor.deployments.serving import to_prefect_schedule

    try:
        to_prefect_schedule(schedule)
    except ValidationError as exc:
        return [err["msg"].removeprefix("Value error, ") for err in exc.errors()]
    except ValueError as exc:
        return [str(exc)]
    return []


def _placeholders(value: Any, path: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(path or "value", m.group(0)) for m in _SECRET_PLACEHOLDER.finditer(value)]
    if isinstance(value, dict):
        return [
            hit for k, v in value.items() for hit in _placeholders(v, f"{path}.{k}".lstrip("."))
        ]
    if isinstance(value, list):
        return [hit for i, v in enumerate(value) for hit in _placeholders(v, f"{path}[{i}]")]
    return []
