"""prefect.yaml: every deployment's entrypoint imports as a flow and its parameters exist."""

from __future__ import annotations

import importlib

import pytest
import yaml

from tests.conftest import REPO

DEPLOYMENTS = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]


@pytest.mark.parametrize("deployment", DEPLOYMENTS, ids=[d["name"] for d in DEPLOYMENTS])
def test_deployment_entrypoints_are_flows_with_those_parameters(
    deployment: dict[str, object],
) -> None:
    from prefect import Flow

    path, _, name = str(deployment["entrypoint"]).partition(":")
    module = importlib.import_module(path.removesuffix(".py").replace("/", "."))
    flow = getattr(module, name)
    assert isinstance(flow, Flow)
    params = deployment.get("parameters") or {}
    assert isinstance(params, dict)
    assert set(params) <= set(flow.parameters.properties)
    for schedule in deployment.get("schedules") or []:  # type: ignore[attr-defined]
        assert len(str(schedule["cron"]).split()) == 5


def test_the_maintenance_flows_are_all_deployed() -> None:
    names = {d["name"] for d in DEPLOYMENTS}
    assert {"weaviate-init", "airbyte-sync", "context-sync", "prune"} <= names
