"""A small Prefect project in tmp_path: a flow module (typed parameters) and a prefect.yaml."""

from __future__ import annotations

import textwrap
import uuid
from pathlib import Path

import pytest

FLOWS = '''
from typing import Literal

from prefect import flow
from pydantic import BaseModel


class Request(BaseModel):
    codebase: str
    """Directory or git URL."""
    fail_on: Literal["high", "none"] = "none"


@flow(name="demo-flow")
def demo_flow(request: Request, repeat: int = 1) -> int:
    return repeat


def plain_function() -> None:
    """Not a flow."""
'''

GOOD = """
name: demo
definitions:
  pool: &pool {name: {pool}}
  tz: &tz Europe/Berlin
deployments:
  - name: nightly
    entrypoint: demo_flows.py:demo_flow
    parameters:
      request: {codebase: ".", fail_on: high}
    schedules:
      - {cron: "0 2 * * *", timezone: *tz}
    tags: [demo]
    work_pool: *pool
  - name: on-demand
    entrypoint: demo_flows.py:demo_flow
    work_pool: *pool
"""


class DemoProject:
    """The project directory, its work pool name and a way to rewrite prefect.yaml."""

    def __init__(self, root: Path, pool: str) -> None:
        self.root = root
        self.pool = pool
        self.file = root / "prefect.yaml"

    def write(self, text: str) -> Path:
        self.file.write_text(textwrap.dedent(text).replace("{pool}", self.pool))
        return self.file


@pytest.fixture
def demo_project(tmp_path: Path) -> DemoProject:
    """A valid project whose work pool name is unique (so it is missing on any server)."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "demo_flows.py").write_text(FLOWS)
    (root / "broken_flows.py").write_text("import no_such_module_xyz\n")
    project = DemoProject(root, f"pool-{uuid.uuid4().hex[:8]}")
    project.write(GOOD)
    return project
