"""The real prefect.yaml: every deployment passes the checks, and the file keeps its promises."""

from __future__ import annotations

import re

import pytest
import yaml

from ai_conductor.deployments import check_project, load_flow, load_project, runner_deployments
from tests.conftest import REPO

PREFECT_YAML = REPO / "prefect.yaml"
PROJECT = load_project(PREFECT_YAML)
NAMES = [d.name for d in PROJECT.deployments]

CONTRACT = {  # deployment -> flow name (the plan other code and docs rely on)
    "nightly-audit": "conductor-audit",
    "weekly-improve": "conductor-improve",
    "run-workflow": "conductor-workflow",
    "fleet-audit": "conductor-fleet-audit",
    "weaviate-init": "weaviate-init",
    "airbyte-sync": "airbyte-sync",
    "context-sync": "context-sync",
    "prune": "prune",
}


@pytest.mark.parametrize("name", NAMES)
def test_each_deployment_passes_the_checks(name: str) -> None:
    assert check_project(PREFECT_YAML, names=[name], server=False) == []


def test_the_deployments_and_their_flows() -> None:
    flows = {d.name: load_flow(REPO, d.entrypoint)[0].name for d in PROJECT.deployments}
    assert flows == CONTRACT
    by_name = {d.name: d for d in PROJECT.deployments}
    assert by_name["weekly-improve"].parameters["request"]["spec_path"] == "workflows/improve.yaml"
    assert {d.work_pool.name for d in PROJECT.deployments if d.work_pool} == {"conductor-process"}
    assert all(d.work_pool for d in PROJECT.deployments)
    assert all(d.tags and "ai-conductor" in d.tags for d in PROJECT.deployments)


def test_schedules_cron_with_a_timezone_and_on_demand_ones_without() -> None:
    crons = {d.name: [(s.cron, s.timezone) for s in d.schedules] for d in PROJECT.deployments}
    assert crons["nightly-audit"]
    assert crons["weekly-improve"]
    assert [c for c, _ in crons["airbyte-sync"] + crons["context-sync"]] == [
        "0 * * * *", "20 * * * *"
    ]  # fmt: skip  # hourly
    assert re.fullmatch(r"\d+ \d+ \* \* \*", str(crons["prune"][0][0]))  # daily
    assert re.fullmatch(r"\d+ \d+ \* \* \d", str(crons["weekly-improve"][0][0]))  # weekly
    assert crons["weaviate-init"] == crons["run-workflow"] == crons["fleet-audit"] == []
    assert all(tz for pairs in crons.values() for _, tz in pairs)


def test_nightly_audit_parameters_are_a_complete_audit_request() -> None:
    from ai_conductor.flows.audit import AuditRequest

    entry = next(d for d in PROJECT.deployments if d.name == "nightly-audit")
    request = AuditRequest.model_validate(entry.parameters["request"])
    assert request.codebase
    assert request.fail_on != "none"
    assert request.focus


def test_weekly_improve_parameters_are_a_complete_improve_request() -> None:
    from ai_conductor.flows.improve import ImproveRequest

    entry = next(d for d in PROJECT.deployments if d.name == "weekly-improve")
    request = ImproveRequest.model_validate(entry.parameters["request"])
    assert request.publish  # the weekly run ends in one pull request
    assert request.spec_path == "workflows/improve.yaml"
    assert set(entry.parameters["request"]) <= set(ImproveRequest.model_fields)


def test_anchors_instead_of_repetition_and_no_secrets() -> None:
    text = PREFECT_YAML.read_text()
    assert text.count("work_pool: *process_pool") == len(NAMES) == 8
    assert text.count("&process_pool") == 1
    assert "definitions:" in text
    assert "{{" not in yaml.safe_dump(yaml.safe_load(text)["deployments"])  # no templating
    assert not re.search(r"(?i)(api_key|password|secret|token)\s*:", text)


def test_flow_parameters_render_as_forms() -> None:
    """Each parameter has a JSON-schema type (or a pydantic model's object schema with typed
    fields), so the Prefect UI renders inputs instead of a raw JSON box."""
    for entry in PROJECT.deployments:
        flow, _ = load_flow(REPO, entry.entrypoint)
        schema = flow.parameters.model_dump_for_openapi()
        for name, prop in schema["properties"].items():
            ref = prop.get("$ref") or (prop.get("allOf") or [{}])[0].get("$ref")
            if ref:
                model = schema["definitions"][ref.rsplit("/", 1)[1]]
                assert model["type"] == "object", (entry.name, name)
                assert model["properties"], (entry.name, name)
                assert all("type" in f or "anyOf" in f or "$ref" in f or "enum" in f
                           for f in model["properties"].values()), (entry.name, name)  # fmt: skip
                documented = ("AuditRequest", "RunRequest", "FleetRequest", "ImproveRequest")
                if ref.endswith(documented):
                    assert all(f.get("description") for f in model["properties"].values()), ref
            else:
                assert "type" in prop or "anyOf" in prop, (entry.name, name)


def test_runner_deployments_reference_package_flows_by_module() -> None:
    built = {d.name: d for d in runner_deployments(PROJECT)}
    assert built["nightly-audit"].entrypoint == "ai_conductor.flows.audit.audit_flow"
    assert built["prune"].parameters == {"older_than_days": 90}
