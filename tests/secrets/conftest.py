"""The publishing fixtures (a bare remote, the project, the GitHub stand-in, smart HTTP)."""

from tests.forge.conftest import git_http, github, setup

__all__ = ["git_http", "github", "setup"]
