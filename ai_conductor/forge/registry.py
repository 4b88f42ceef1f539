"""The forges by short name: ``module:Class`` and the extra that installs its client."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from ai_conductor.errors import ConfigError

if TYPE_CHECKING:
    from ai_conductor.forge.config import ForgeConfig
    from ai_conductor.protocols import Forge

FORGES: dict[str, tuple[str, str, str]] = {
    "github": ("ai_conductor.forge.github:GitHubForge", "github", "githubkit"),
    "gitlab": ("ai_conductor.forge.gitlab:GitLabForge", "gitlab", "python-gitlab"),
    "gitea": ("ai_conductor.forge.gitea:GiteaForge", "gitea", "pyforgejo"),
}
"""Short name -> (implementation, the extra that installs its client, the client)."""


def open_forge(config: ForgeConfig) -> Forge:
    """The client of ``config.kind``; a missing client library is a ConfigError naming the
    extra to install."""
    if config.kind not in FORGES:
        raise ConfigError(f"unknown forge {config.kind!r}; known: {', '.join(FORGES)}")
    target, extra, client = FORGES[config.kind]
    module_name, _, attr = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ConfigError(
            f"publishing to {config.kind} needs {client}, which is not installed ({exc.name}): "
            f"pip install 'ai-conductor[{extra}]'"
        ) from None
    forge: Forge = getattr(module, attr)(config)
    return forge
