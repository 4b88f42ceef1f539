"""Projects with and without environments of their own, built offline from local wheels."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import WHEELS
from tests.environment._wheels import make_wheel

ONLY = "only_in_venv"
"""A package no index has: importable only where a test installed it."""
USES_IT = "from only_in_venv import VALUE\n\n\ndef test_value():\n    assert VALUE == 42\n"


def only_wheel(version: str = "1.0") -> Path:
    return make_wheel(WHEELS, ONLY.replace("_", "-"), version,
                      {f"{ONLY}/__init__.py": "VALUE = 42\n"})  # fmt: skip


def uv() -> str:
    return str(Path(sys.executable).parent / "uv")


def make_venv(where: Path, *packages: str) -> Path:
    """A real virtualenv at ``where`` with ``packages`` from the local wheels."""
    subprocess.run([uv(), "venv", "-q", "--python", sys.executable, str(where)], check=True)
    if packages:
        subprocess.run([uv(), "pip", "install", "-q", "--python", str(where / "bin" / "python"),
                        *packages], check=True)  # fmt: skip
    return where


@pytest.fixture
def wheels() -> Path:
    only_wheel()
    return WHEELS
