"""check_project finds each class of problem, all at once, and nothing in a good project."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ai_conductor.deployments import check_project, load_project, runner_deployments
from ai_conductor.errors import ConfigError
from tests.deployments.conftest import DemoProject


def messages(project: DemoProject, **options: object) -> list[str]:
    return [p.render() for p in check_project(project.file, server=False, **options)]  # type: ignore[arg-type]


def one_deployment(parameters: str = "request: {codebase: .}", extra: str = "") -> str:
    return f"""
    deployments:
      - name: d
        entrypoint: demo_flows.py:demo_flow
        parameters: {{{parameters}}}
        work_pool: {{name: p}}
    {extra}"""


def test_the_good_project_has_no_problems_and_builds_runner_deployments(
    demo_project: DemoProject,
) -> None:
    assert messages(demo_project) == []
    built = runner_deployments(load_project(demo_project.file))
    assert [d.name for d in built] == ["nightly", "on-demand"]
    schedule = built[0].schedules[0].schedule  # type: ignore[index]
    assert (schedule.cron, schedule.timezone) == ("0 2 * * *", "Europe/Berlin")  # type: ignore[union-attr]
    assert built[0].parameters == {"request": {"codebase": ".", "fail_on": "high"}}
    assert built[0].tags == ["demo"]


def test_missing_file_and_not_yaml(demo_project: DemoProject) -> None:
    missing = check_project(demo_project.root / "nope.yaml", server=False)
    assert "nope.yaml does not exist" in missing[0].render()
    assert "--prefect-file" in missing[0].render()
    demo_project.write("deployments:\n  - name: [unclosed\n")
    (problem,) = messages(demo_project)
    assert "is not valid YAML" in problem
    assert "line 3" in problem
    demo_project.write("just: a mapping\n")
    assert messages(demo_project) == [f"{demo_project.file} has no 'deployments' list"]
    with pytest.raises(ConfigError, match="no 'deployments' list"):
        load_project(demo_project.file)


@pytest.mark.parametrize(
    ("entrypoint", "expected"),
    [
        ("broken_flows.py:anything", "broken_flows.py does not import: ModuleNotFoundError"),
        ("demo_flows.py:missing", "demo_flows.py has no 'missing'"),
        ("demo_flows.py:plain_function", "plain_function is a function, not a Prefect flow"),
        ("demo_flows.demo_flow", "expected path/to/file.py:flow_function"),
        ("nowhere.py:flow", "nowhere.py does not exist"),
    ],
)
def test_entrypoints_that_are_not_flows(
    demo_project: DemoProject, entrypoint: str, expected: str
) -> None:
    demo_project.write(one_deployment().replace("demo_flows.py:demo_flow", entrypoint))
    (problem,) = messages(demo_project)
    assert problem.startswith("d: ")
    assert expected in problem


@pytest.mark.parametrize(
    ("parameters", "expected"),
    [
        ("request: {codebase: ., fail-on: high}", "parameters.request: unknown key 'fail-on'"),
        ("request: {codebase: .}, repeats: 2", "parameters: unknown key 'repeats'"),
        ("request: {codebase: .}, repeat: many", "parameters.repeat: 'many' is not of type"),
        ("request: {codebase: ., fail_on: low}", "parameters.request.fail_on: 'low' is not one of"),
    ],
)
def test_parameters_not_valid_for_the_flow(
    demo_project: DemoProject, parameters: str, expected: str
) -> None:
    demo_project.write(one_deployment(parameters))
    found = messages(demo_project)
    assert any(expected in m for m in found), found


def test_a_schedule_needs_every_required_parameter_a_manual_run_may_omit(
    demo_project: DemoProject,
) -> None:
    demo_project.write(one_deployment("repeat: 2"))
    assert messages(demo_project) == []  # on demand: the UI form asks for `request`
    demo_project.write(one_deployment("repeat: 2", "    schedules: [{cron: '0 2 * * *'}]"))
    (problem,) = messages(demo_project)
    assert "schedules[0] starts runs with invalid parameters" in problem
    assert "'request' is a required property" in problem


@pytest.mark.parametrize(
    ("schedule", "expected"),
    [
        ("{cron: '61 * * * *'}", 'Invalid cron string: "61 * * * *"'),
        ("{cron: '0 2 * * *', timezone: Mars/Olympus}", 'Invalid timezone: "Mars/Olympus"'),
        ("{cron: '0 2 * * *', interval: 60}", "give exactly one of cron, interval or rrule"),
        ("{crontab: '0 2 * * *'}", "schedules.0.crontab: Extra inputs are not permitted"),
        ("{interval: -5}", "interval must be positive"),
    ],
)
def test_bad_schedules(demo_project: DemoProject, schedule: str, expected: str) -> None:
    demo_project.write(one_deployment(extra=f"    schedules: [{schedule}]"))
    found = messages(demo_project)
    assert any(expected in m for m in found), found


def test_duplicate_and_unknown_names_and_all_problems_at_once(demo_project: DemoProject) -> None:
    demo_project.write(
        """
        deployments:
          - {name: twice, entrypoint: "demo_flows.py:demo_flow", work_pool: {name: p}}
          - {name: twice, entrypoint: "demo_flows.py:plain_function", work_pool: {name: p}}
          - {name: no-pool, entrypoint: "demo_flows.py:demo_flow"}
        """
    )
    found = messages(demo_project, names=["twice", "no-pool", "ghost"])
    assert "twice: 2 deployments have this name" in found
    assert any(m.startswith("no deployment named 'ghost'") and "choose from: twice, no-pool" in m
               for m in found)  # fmt: skip
    assert any("twice: " in m and "plain_function is a function" in m for m in found)
    assert "no-pool: no work_pool.name (prefect deploy needs one, e.g. conductor-process)" in found
    assert len(found) == 4
    # serving needs no work pool (duplicates concern the whole file)
    assert messages(demo_project, names=["no-pool"], deploy=False) == [found[0]]


@pytest.mark.parametrize(
    "value",
    ["{{ prefect.blocks.secret.db-password }}", "{{ $OPENAI_API_KEY }}", "{{$DB_PASSWORD}}"],
)
def test_secrets_templated_into_the_deployment_are_refused(
    demo_project: DemoProject, value: str
) -> None:
    demo_project.write(
        one_deployment().replace(
            "work_pool: {name: p}",
            f'work_pool: {{name: p, job_variables: {{env: {{X: "{value}"}}}}}}',
        )
    )
    (problem,) = messages(demo_project)
    assert f"work_pool.job_variables.env.X uses {value}" in problem
    assert "stores the value in the deployment record" in problem


def test_block_names_through_the_environment_are_fine(demo_project: DemoProject) -> None:
    env = '{env: {CONDUCTOR_LLM_BLOCK: team-llm, CONDUCTOR_DATABASE_BLOCK: "{{ $DB_BLOCK }}"}}'
    demo_project.write(
        one_deployment().replace(
            "work_pool: {name: p}", f"work_pool: {{name: p, job_variables: {env}}}"
        )
    )
    assert messages(demo_project) == []


# --- the Prefect API and work pools -----------------------------------------------------------


@contextmanager
def api_url(url: str | None) -> Iterator[None]:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if url is None:
        with temporary_settings(restore_defaults={PREFECT_API_URL}):
            yield
    else:
        with temporary_settings(updates={PREFECT_API_URL: url}):
            yield


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_deploying_needs_a_prefect_server(demo_project: DemoProject) -> None:
    with api_url(None):
        (problem,) = check_project(demo_project.file)
        assert problem.message.startswith("PREFECT_API_URL is not set")
        assert "prefect server start" in problem.hint
        assert "prefect cloud login" in problem.hint
        assert check_project(demo_project.file, deploy=False) == []  # serve starts its own
    url = f"http://127.0.0.1:{closed_port()}/api"
    with api_url(url):
        for deploy in (True, False):
            (problem,) = check_project(demo_project.file, deploy=deploy)
            assert f"the Prefect API at {url} is unreachable" in problem.message


def test_a_missing_work_pool_is_a_problem_until_created(
    prefect_api: str, demo_project: DemoProject
) -> None:
    from prefect.client.orchestration import get_client

    (problem,) = check_project(demo_project.file)
    assert f"work pool {demo_project.pool!r} does not exist" in problem.message
    assert "--create-pool" in problem.hint
    said: list[str] = []
    assert check_project(demo_project.file, create_pool=True, say=said.append) == []
    assert said == [f"created work pool {demo_project.pool!r} (type process)"]
    with get_client(sync_client=True) as client:
        pool = client.read_work_pool(demo_project.pool)
    assert pool.type == "process"
    assert "env" in pool.base_job_template["variables"]["properties"]
    assert check_project(demo_project.file) == []
