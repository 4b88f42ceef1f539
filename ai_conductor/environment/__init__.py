"""The project's own environment: where its tests and type check run, found or built.

from ai_conductor.environment import resolve_environment
env = resolve_environment(Path("."))          # explicit > .venv > uv/poetry/hatch/pdm > isolated
env.test_command, env.python, env.reason

:func:`existing_python` is the cheap question "which interpreter does this project have?":
it never builds anything.
"""

from ai_conductor.environment._proc import gate_env
from ai_conductor.environment.models import TEST_ENVS, EnvKind, ProjectEnvironment
from ai_conductor.environment.project import uses_pytest
from ai_conductor.environment.resolve import existing_python, resolve_environment

__all__ = [
    "TEST_ENVS",
    "EnvKind",
    "ProjectEnvironment",
    "existing_python",
    "gate_env",
    "resolve_environment",
    "uses_pytest",
]
