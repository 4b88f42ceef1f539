"""What :func:`~ai_conductor.environment.resolve_environment` hands the gate: where the
project's code runs (its tests, its type check) and how that place was chosen."""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class EnvKind(StrEnum):
    """How the environment was found or made, in the order they are tried."""

    EXPLICIT = "explicit"
    """The user's test command (``--test-command`` / spec ``test_command``), run as given."""
    VENV = "venv"
    """The project's own virtualenv: ``.venv/`` or ``venv/`` in the codebase."""
    UV = "uv"
    """``uv.lock`` and uv: synced into a conductor-owned environment, run through ``uv run``."""
    POETRY = "poetry"
    """``poetry.lock`` and poetry: poetry's existing environment for the project."""
    HATCH = "hatch"
    """hatch configuration and hatch: hatch's existing default environment."""
    PDM = "pdm"
    """``pdm.lock`` and pdm: pdm's existing interpreter for the project."""
    TOX = "tox"
    """Asked for (``--test-env tox``): tox runs the tests in its own environments."""
    NOX = "nox"
    """Asked for (``--test-env nox``): nox runs the tests in its own sessions."""
    ISOLATED = "isolated"
    """Built by the conductor under ``$CONDUCTOR_HOME/envs``, keyed by the dependency files."""
    NONE = "none"
    """No tests to run and no environment: the gate relies on the analyzer."""


TEST_ENVS = ("auto", "isolated", "tox", "nox")
"""Values of ``--test-env``: ``auto`` tries the order; the others force one kind."""


class ProjectEnvironment(BaseModel):
    """Where the project's code runs, and how it was chosen."""

    model_config = ConfigDict(use_attribute_docstrings=True, frozen=True)

    kind: EnvKind
    reason: str
    """One sentence: why this environment (what was found, what was missing)."""
    python: str | None = None
    """The environment's interpreter (type check, deptry); None when there is none."""
    location: str | None = None
    """The environment's directory, when it has one."""
    test_command: list[str] | None = None
    """The full test argv run in a worktree; None: no tests found; []: tests disabled."""
    variables: dict[str, str] = Field(default_factory=dict)
    """Environment variables the commands get (``VIRTUAL_ENV``, ``UV_PROJECT_ENVIRONMENT``)."""
    path: list[str] = Field(default_factory=list)
    """Directories put first on ``PATH`` (the environment's ``bin``)."""
    code_on_path: bool = True
    """Put the worktree (and its ``src/``) first on ``PYTHONPATH``, so the code under test is
    always the worktree's, never an installed copy (false for tox/nox, which install it)."""
    exclusive: bool = False
    """Test runs must not overlap (tox/nox share one work directory)."""
    built: bool = False
    """Built (or synced) by this run; false when an existing one was reused."""
    build_seconds: float | None = None
    """How long building took, when this run built it."""

    def describe(self) -> str:
        """A short phrase for reports: ``isolated environment /.../envs/ab12 (reused)``."""
        if self.kind is EnvKind.NONE:
            return "no environment (no tests to run)"
        where = f" {self.location}" if self.location else ""
        how = f" (built in {self.build_seconds or 0:.1f}s)" if self.built else ""
        if self.kind in (EnvKind.ISOLATED, EnvKind.UV) and not self.built:
            how = " (reused)"
        return f"{self.kind.value} environment{where}{how}"

    def environ(self, cwd: Path, base: Mapping[str, str]) -> dict[str, str]:
        """``base`` (already stripped of the conductor's secrets) plus this environment's
        variables, ``PATH`` and, for code run from a worktree, ``PYTHONPATH``."""
        env = {k: v for k, v in base.items() if k not in ("PYTHONHOME", "VIRTUAL_ENV")}
        env.update(self.variables)
        if self.path:
            env["PATH"] = os.pathsep.join([*self.path, *filter(None, [base.get("PATH")])])
        if self.code_on_path and self.kind is not EnvKind.EXPLICIT:
            roots = [str(cwd)] + ([str(cwd / "src")] if (cwd / "src").is_dir() else [])
            env["PYTHONPATH"] = os.pathsep.join([*roots, *filter(None, [base.get("PYTHONPATH")])])
        return env
