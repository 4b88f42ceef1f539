"""The forges by short name: ``module:Class`` and the extra that installs its client.

A third-party forge registers a name in the ``ai_conductor.forges`` entry-point group or is named
by its import path ``package.module:Class`` (the plugin loader, ``ai_conductor._plugins``); the
class is called with the :class:`~ai_conductor.forge.config.ForgeConfig` and must satisfy
:class:`~ai_conductor.protocols.Forge`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ai_conductor._plugins import Family, create
from ai_conductor.protocols import Forge

if TYPE_CHECKING:
    from ai_conductor.forge.config import ForgeConfig

FORGES: dict[str, tuple[str, str, str]] = {
    "github": ("ai_conductor.forge.github:GitHubForge", "github", "githubkit"),
    "gitlab": ("ai_conductor.forge.gitlab:GitLabForge", "gitlab", "python-gitlab"),
    "gitea": ("ai_conductor.forge.gitea:GiteaForge", "gitea", "pyforgejo"),
}
"""Short name -> (implementation, the extra that installs its client, the client)."""

FAMILY = Family(
    "forge", "ai_conductor.forges", {name: row[0] for name, row in FORGES.items()}, Forge,
    hints={name: f"publishing to {name} needs {client}, which is not installed: pip install "
           f"'ai-conductor[{extra}]'" for name, (_, extra, client) in FORGES.items()},
)  # fmt: skip
"""For the plugin loader: the built-ins above, plugins, import paths."""


def open_forge(config: ForgeConfig) -> Forge:
    """The client of ``config.kind``; a missing client library is an error naming the extra to
    install."""
    forge: Forge = create(FAMILY, config.kind, config)
    return forge
