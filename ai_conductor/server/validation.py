"""One way to check a spec without running it, for every remote surface (HTTP and MCP).

``POST /workflows/validate`` and the MCP tool ``validate_spec`` both call :func:`validate`, so
they accept the same input (a JSON object, YAML or JSON text, or a spec file inside the allowed
roots) and answer the same :class:`ValidateResult`, warnings included.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from pydantic import BaseModel, Field

from ai_conductor.errors import SpecError
from ai_conductor.settings import Settings


class ValidateResult(BaseModel):
    """The outcome of validating a spec; nothing runs."""

    ok: bool
    """True when the spec would run."""
    workflow_id: str | None = None
    """The spec's workflow id, when it validated."""
    tasks: list[str] = Field(default_factory=list)
    """Task ids, when it validated."""
    problems: list[str] = Field(default_factory=list)
    """What to change, one line per problem (with its line in the spec text)."""
    warnings: list[str] = Field(default_factory=list)
    """What validates but probably is not meant (the spec still runs), with line and fix."""


def validate(
    settings: Settings,
    spec: Mapping[str, Any] | str | None = None,
    spec_path: str | None = None,
) -> ValidateResult:
    """Validate an inline spec (object or text) or a spec file inside the allowed roots.

    Import paths are refused before validation would import them (see
    :func:`~ai_conductor.server._execute.checked_spec`).
    """
    from ai_conductor.server._execute import checked_spec

    try:
        model = checked_spec(settings, spec_path, spec)
    except SpecError as exc:
        return ValidateResult(ok=False, problems=[p.render(exc.source) for p in exc.problems])
    except yaml.YAMLError as exc:  # e.g. control characters, raised before parsing starts
        return ValidateResult(ok=False, problems=[f"YAML error: {exc}"])
    return ValidateResult(
        ok=True,
        workflow_id=model.workflow_id,
        tasks=[t.id for t in model.tasks],
        warnings=list(model.warnings),
    )
