"""Running git inside a repository we do not trust: nothing the repository configures may run.

A codebase's own ``.git/config`` can name programs that git starts by itself: hooks,
``core.fsmonitor`` (run by ``status``, ``add``, ``ls-files``...), clean/smudge filters of
``filter.<driver>`` (run whenever ``.gitattributes`` maps a file to the driver: ``add``,
``checkout``, ``reset``, ``apply``...), merge drivers of ``merge.<driver>.driver`` (run by
merges, cherry-picks and ``merge-tree``), ``gpg.program`` via ``log.showSignature``.
:func:`git_env` overrides them with command-line-scope settings (``GIT_CONFIG_COUNT``,
``GIT_CONFIG_KEY_n``, ``GIT_CONFIG_VALUE_n``: they win over every config file and need no
quoting); ``extra`` pairs (e.g. a per-command ``http.<url>.extraHeader`` carrying credentials,
which then live only in that git process' environment, never in a file or its argv) are added
the same way. ``diff.external`` and textconv drivers cannot be
switched off by a setting (an empty one is run, and fails): every ``git diff``/``git log -p``
must pass :data:`NO_DIFF_PROGRAMS`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

SAFE_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.hooksPath", "/dev/null"),
    ("core.fsmonitor", "false"),
    ("core.sshCommand", "false"),
    ("log.showSignature", "false"),
    ("commit.gpgsign", "false"),
    ("tag.gpgsign", "false"),
    ("submodule.recurse", "false"),
    ("protocol.ext.allow", "never"),
)
"""Settings that keep git from starting programs the repository names."""

NO_DIFF_PROGRAMS = ("--no-ext-diff", "--no-textconv")
"""Flags for ``git diff``/``git log -p``: no external diff, no textconv driver."""

_FILTER_KEYS = ("clean", "smudge", "process")
_ENV_DROP = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_PREFIX",
             "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CONFIG_PARAMETERS",
             "GIT_CONFIG_COUNT", "GIT_EXTERNAL_DIFF", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_EDITOR",
             "GIT_PAGER")  # fmt: skip
_ENV_DROP_PREFIXES = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")


def filter_drivers(cwd: Path, env: Mapping[str, str] | None = None) -> list[str]:
    """Names of the filter drivers any config visible in ``cwd`` defines (reading runs nothing)."""
    return _drivers(cwd, env)["filter"]


def _drivers(cwd: Path, env: Mapping[str, str] | None = None) -> dict[str, list[str]]:
    """Filter and merge driver names any config visible in ``cwd`` defines."""
    found: dict[str, set[str]] = {"filter": set(), "merge": set()}
    try:
        out = subprocess.run(
            ["git", "config", "-z", "--name-only", "--get-regexp", r"^(filter|merge)\..*\."],
            cwd=cwd, env=dict(env) if env is not None else None, stdin=subprocess.DEVNULL,
            capture_output=True, timeout=60, check=False,
        ).stdout  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return {k: [] for k in found}
    for key in out.decode("utf-8", "surrogateescape").split("\0"):
        section, _, rest = key.partition(".")
        driver, dot, _var = rest.rpartition(".")
        if section.lower() in found and dot and driver:
            found[section.lower()].add(driver)
    return {k: sorted(v) for k, v in found.items()}


def git_env(
    cwd: Path, base: Mapping[str, str] | None = None, extra: Sequence[tuple[str, str]] = ()
) -> dict[str, str]:
    """The environment for git in ``cwd``: :data:`SAFE_CONFIG`, every filter driver emptied,
    every merge driver replaced by ``false`` (the file conflicts instead), no prompts, none of
    the caller's ``GIT_DIR``-style variables, then the ``extra`` settings."""
    env = {
        k: v
        for k, v in (os.environ if base is None else base).items()
        if k not in _ENV_DROP and not k.startswith(_ENV_DROP_PREFIXES)
    }
    env["GIT_TERMINAL_PROMPT"] = "0"
    pairs = list(SAFE_CONFIG)
    drivers = _drivers(cwd, env)
    for driver in drivers["filter"]:
        pairs += [(f"filter.{driver}.{key}", "") for key in _FILTER_KEYS]
        pairs.append((f"filter.{driver}.required", "false"))
    pairs += [(f"merge.{driver}.driver", "false") for driver in drivers["merge"]]
    pairs += list(extra)
    env["GIT_CONFIG_COUNT"] = str(len(pairs))
    for i, (key, value) in enumerate(pairs):
        env[f"GIT_CONFIG_KEY_{i}"] = key
        env[f"GIT_CONFIG_VALUE_{i}"] = value
    return env
