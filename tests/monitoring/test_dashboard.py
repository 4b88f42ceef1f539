"""The Grafana dashboard: well-formed, and every query names metrics a real scrape shows."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ai_conductor import run_spec
from tests.conftest import REPO
from tests.monitoring.conftest import Exporter, families, get

DASHBOARD = REPO / "deployments" / "grafana" / "ai-conductor.json"
GRAFANA_GLOBALS = {"__rate_interval", "__interval", "__range"}
NOT_METRICS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
               "or", "unless", "offset", "inf", "nan"}  # fmt: skip


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (functions, labels and keywords left out)."""
    assert expr.count("(") == expr.count(")"), expr
    assert expr.count("{") == expr.count("}"), expr
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # range selectors
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", text)
    names = set()
    for match in re.finditer(r"(?<![\w.$])[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function
        if match.group().lower() not in NOT_METRICS:
            names.add(match.group())
    return names


def test_metric_names_are_parsed_out_of_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, agent_role) (rate(x_bucket{job=~"$job",a="b c"}'
        "[$__rate_interval]))) / ignoring(le) y_total offset 5m and on(flow) z == bool 1"
    )
    assert metric_names(expr) == {"x_bucket", "y_total", "z"}
    assert metric_names("time() - last_success_seconds") == {"last_success_seconds"}


def panels() -> Iterator[dict[str, Any]]:
    for panel in json.loads(DASHBOARD.read_text())["panels"]:
        yield panel
        yield from panel.get("panels", [])


def queries() -> Iterator[tuple[str, str]]:
    """(where, PromQL) of every panel target and query variable."""
    for panel in panels():
        for target in panel.get("targets", []):
            yield f"panel {panel['id']} {target['refId']}", target["expr"]
    for var in json.loads(DASHBOARD.read_text())["templating"]["list"]:
        if var["type"] == "query":
            found = re.fullmatch(r"label_values\((\w+),\s*\w+\)", var["definition"])
            assert found, var["definition"]
            yield f"variable {var['name']}", found.group(1)


def test_the_dashboard_is_well_formed() -> None:
    board = json.loads(DASHBOARD.read_text())
    assert board["schemaVersion"] == 39
    assert board["uid"] == "ai-conductor"
    assert [i["name"] for i in board["__inputs"]] == ["DS_PROMETHEUS"]
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    ids = [p["id"] for p in panels()]
    assert len(ids) == len(set(ids)) >= 10
    boxes: list[tuple[int, int, int, int]] = []
    for panel in panels():
        x, y, w, h = (panel["gridPos"][k] for k in ("x", "y", "w", "h"))
        assert min(x, w - 1, h - 1) >= 0, panel["title"]
        assert x + w <= 24, panel["title"]
        for bx, by_, bw, bh in boxes:  # no two panels overlap
            assert x >= bx + bw or bx >= x + w or y >= by_ + bh or by_ >= y + h, panel["title"]
        boxes.append((x, y, w, h))
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
        refs = [t["refId"] for t in panel["targets"]]
        assert refs, panel["title"]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${DS_PROMETHEUS}"
    used = set(re.findall(r"\$\{?(\w+)", json.dumps([q for _, q in queries()])))
    assert used <= set(variables) | GRAFANA_GLOBALS, used


@pytest.fixture
def scraped(
    push_to: str, start_exporter: Callable[[], Exporter], risky: Path, conductor_home: Path
) -> set[str]:
    """Sample names of real scrapes: the exporter, the Pushgateway and the HTTP server, after a
    pushed workflow run with tasks, findings and reported LLM usage."""
    from fastapi.testclient import TestClient

    from ai_conductor.server.http_api import create_app
    from ai_conductor.settings import Settings

    exporter = start_exporter()
    command = [sys.executable, "-c", "print(1)"]
    result = run_spec(
        {
            "workflow_id": "dashboard",
            "tasks": [
                {"id": "hello", "agent": "command", "inputs": {"command": command}},
                {"id": "scan", "agent": "analyzer"},
                {"id": "usage", "agent": "noop", "inputs": {"tokens": 10, "cost_usd": 0.01}},
            ],
        },
        codebase=risky,
    )
    assert result.ok, result.summary_line()
    with TestClient(create_app(Settings(home=conductor_home))) as client:
        server = client.get("/metrics").text
    texts = [exporter.scrape(), get(f"{push_to}/metrics")[1], server]
    return {s.name for text in texts for f in families(text).values() for s in f.samples}


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_api")
def test_every_query_names_metrics_a_real_scrape_shows(scraped: set[str]) -> None:
    assert "conductor_task_duration_seconds_bucket" in scraped  # the exporter saw the tasks
    assert "conductor_flow_run_task_duration_seconds_bucket" in scraped  # and the push arrived
    seen: set[str] = set()
    for where, expr in queries():
        names = metric_names(expr)
        assert names, f"{where}: no metric in {expr!r}"
        assert names <= scraped, f"{where}: {sorted(names - scraped)} not in any scrape"
        seen |= names
    families_used = {re.sub(r"_(bucket|sum|count|total)$", "", n) for n in seen}
    assert {
        "conductor_workflows",
        "conductor_active_workflows",
        "conductor_task_duration_seconds",
        "conductor_findings",
        "conductor_llm_tokens",
        "conductor_llm_cost_usd",
        "conductor_flow_run_duration_seconds",
        "conductor_flow_run_state",
    } <= families_used
