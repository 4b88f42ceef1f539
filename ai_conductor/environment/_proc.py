"""Running the environment's commands: the conductor's secrets withheld, a timeout, the tail
of the output kept (credentials in URLs masked), and a lock file for builds."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ai_conductor._urls import redact_userinfo

WITHHELD = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "WEAVIATE_API_KEY", "AIRBYTE_API_KEY",
            "AIRBYTE_CLIENT_SECRET")  # fmt: skip
"""Secrets the conductor uses that the project's code (its tests, its builds) never sees."""
TAIL = 2000


def gate_env() -> dict[str, str]:
    """The environment for the project's code: its tests and builds run code a model or agent
    wrote, so the conductor's own secrets (LLM keys, CONDUCTOR_* settings such as the database
    URL and the API token) are withheld; the project's own variables pass through."""
    return {
        k: v for k, v in os.environ.items() if k not in WITHHELD and not k.startswith("CONDUCTOR_")
    }


def redact(text: str) -> str:
    """``text`` with ``user:password@`` in URLs masked (index URLs carry tokens)."""
    return redact_userinfo(text)


@dataclass(frozen=True)
class Done:
    """A finished command: exit code (None: could not start or timed out) and output tail."""

    argv: list[str]
    code: int | None
    output: str

    def show(self) -> str:
        return redact(" ".join(self.argv))


def run(
    argv: Sequence[str], cwd: Path, timeout: float, env: Mapping[str, str] | None = None
) -> Done:
    """Run ``argv`` without a shell or stdin; stdout and stderr together, tail kept."""
    try:
        proc = subprocess.run(
            list(argv), cwd=cwd, env=dict(env if env is not None else gate_env()),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            timeout=timeout, check=False,
        )  # fmt: skip
    except OSError as exc:
        return Done(list(argv), None, f"could not start {argv[0]!r}: {exc}")
    except subprocess.TimeoutExpired as exc:
        out = (exc.output or b"").decode("utf-8", "replace")
        return Done(list(argv), None, redact(out[-TAIL:]) + f"\n[timed out after {timeout:g}s]")
    return Done(list(argv), proc.returncode, redact(proc.stdout.decode("utf-8", "replace")[-TAIL:]))


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created) for the block; other processes wait."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
