"""Which forge hosts a remote, and how to reach its API: as the platforms' CI provides it.

GitHub: ``GITHUB_API_URL`` (Enterprise too), ``GITHUB_REPOSITORY``, ``GITHUB_TOKEN`` (or
``CONDUCTOR_GITHUB_TOKEN``, or a Prefect Secret block named by ``CONDUCTOR_GITHUB_TOKEN_BLOCK``).
GitLab: ``CI_API_V4_URL``, ``CI_PROJECT_ID`` / ``CI_PROJECT_PATH``, ``GITLAB_TOKEN``.
Gitea/Forgejo: ``GITEA_API_URL``, ``GITEA_REPOSITORY``, ``GITEA_TOKEN`` (inside Gitea or Forgejo
Actions, whose runners set the ``GITHUB_*`` names, those are used when the ``GITEA_*`` ones are
not set). Anything not set comes from the remote's URL. Everything is read through the one
settings model.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import SecretStr

from ai_conductor.errors import ConfigError
from ai_conductor.publish.gitops import Credentials, Remote
from ai_conductor.settings import Settings

KINDS = ("github", "gitlab", "gitea")
GIT_USER = {"github": "x-access-token", "gitlab": "oauth2", "gitea": "oauth2"}
_HOSTS = {"github.com": "github", "gitlab.com": "gitlab", "codeberg.org": "gitea"}


@dataclass(frozen=True)
class ForgeConfig:
    """Everything a forge client needs for one repository."""

    kind: str
    api_url: str
    repository: str
    """``owner/name`` (GitLab: a project id or ``group/name`` path)."""
    token: SecretStr

    def git_credentials(self, settings: Settings) -> Credentials:
        return Credentials(settings.git_username or GIT_USER[self.kind], self.token)


def _host(url: str | None) -> str:
    return (urlsplit(url).netloc if url else "").lower()


def detect(remote: Remote, forge: str | None, settings: Settings) -> str:
    """The forge kind: ``forge``, else ``CONDUCTOR_FORGE``, else from the remote's host."""
    chosen = forge or (settings.forge if settings.forge != "auto" else None)
    if chosen:
        if chosen not in KINDS:
            raise ConfigError(f"--forge {chosen!r}: choose one of {', '.join(KINDS)}")
        return chosen
    host = remote.host.lower()
    if host in _HOSTS:
        return _HOSTS[host]
    configured = {"github": settings.github_api_url, "gitlab": settings.gitlab_api_url,
                  "gitea": settings.gitea_api_url}  # fmt: skip
    for kind, url in configured.items():
        if host and _host(url) == host:
            return kind
    for kind in ("gitlab", "gitea", "forgejo", "github"):
        if kind in host:
            return "gitea" if kind == "forgejo" else kind
    raise ConfigError(
        f"cannot tell which forge hosts the remote {remote.name!r} ({remote.url}): pass "
        "--forge github|gitlab|gitea (or set CONDUCTOR_FORGE)"
    )


def _token(value: SecretStr | None, block: str | None, names: str) -> SecretStr:
    if block:
        from ai_conductor._prefect import secret_value

        return SecretStr(secret_value(block, origin=names.split(" ")[-1]))
    if value is None or not value.get_secret_value():
        raise ConfigError(f"no token to publish with: set {names}")
    return value


def forge_config(kind: str, remote: Remote, settings: Settings) -> ForgeConfig:
    """API address, repository and token of the ``kind`` forge for ``remote``."""
    scheme = "http" if remote.url.startswith("http://") else "https"
    if kind == "github":
        api = settings.github_api_url or (
            "https://api.github.com" if remote.host in ("github.com", "") else
            f"{scheme}://{remote.host}/api/v3"
        )  # fmt: skip
        return ForgeConfig(kind, api, settings.github_repository or remote.path, _token(
            settings.github_token, settings.github_token_block,
            "GITHUB_TOKEN, CONDUCTOR_GITHUB_TOKEN or CONDUCTOR_GITHUB_TOKEN_BLOCK"))  # fmt: skip
    if kind == "gitlab":
        api = settings.gitlab_api_url or f"{scheme}://{remote.host or 'gitlab.com'}/api/v4"
        return ForgeConfig(kind, api, settings.gitlab_project or remote.path, _token(
            settings.gitlab_token, settings.gitlab_token_block,
            "GITLAB_TOKEN, CONDUCTOR_GITLAB_TOKEN or CONDUCTOR_GITLAB_TOKEN_BLOCK"))  # fmt: skip
    api = settings.gitea_api_url or settings.github_api_url or ""
    if not api:
        if not remote.host:
            raise ConfigError(
                "the Gitea/Forgejo API is unknown for a local remote: set GITEA_API_URL"
            )
        api = f"{scheme}://{remote.host}/api/v1"
    token = settings.gitea_token or settings.github_token
    block = settings.gitea_token_block or settings.github_token_block
    repository = settings.gitea_repository or settings.github_repository or remote.path
    names = "GITEA_TOKEN, CONDUCTOR_GITEA_TOKEN or CONDUCTOR_GITEA_TOKEN_BLOCK"
    return ForgeConfig(kind, api, repository, _token(token, block, names))


def check_repository(config: ForgeConfig) -> tuple[str, str]:
    """``(owner, name)`` of an ``owner/name`` repository (ConfigError otherwise)."""
    owner, _, name = config.repository.strip("/").rpartition("/")
    if not owner or not name:
        var = "GITHUB_REPOSITORY" if config.kind == "github" else "GITEA_REPOSITORY"
        raise ConfigError(
            f"the {config.kind} repository {config.repository!r} is not owner/name: set {var}"
        )
    return owner, name
