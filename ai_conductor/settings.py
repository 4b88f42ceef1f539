"""One settings model for the whole product: environment variables with the ``CONDUCTOR_`` prefix.

Nothing else in the package reads the environment. ``get_settings()`` caches the model;
``reload_settings()`` re-reads the environment (tests and long-lived servers use it).
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ai_conductor._paths import expand_user


class Settings(BaseSettings):
    """Settings read from ``CONDUCTOR_*`` environment variables (and a ``.env`` file if present)."""

    model_config = SettingsConfigDict(
        env_prefix="CONDUCTOR_", env_file=".env", extra="ignore", populate_by_name=True
    )

    home: Path = Field(default=Path("~/.conductor"))
    """Where the embedded defaults live: the SQLite audit log, persisted results, caches."""

    database_url: SecretStr | None = None
    """Any SQLAlchemy URL for the audit log; default ``sqlite:///$CONDUCTOR_HOME/conductor.db``."""

    database_block: str | None = None
    """Name of a prefect-sqlalchemy ``SqlAlchemyConnector`` block to take the audit URL from."""

    context_store: str = "embedded"
    """Context store backend: ``embedded`` (SQLite FTS5 under ``home``), ``weaviate``, or the
    import path ``package.module:Class`` of a third-party store."""

    weaviate_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CONDUCTOR_WEAVIATE_URL", "WEAVIATE_URL")
    )
    """Weaviate endpoint when ``context_store`` is ``weaviate``."""

    weaviate_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_WEAVIATE_API_KEY", "WEAVIATE_API_KEY"),
    )
    """Weaviate API key (Weaviate Cloud)."""

    weaviate_grpc_port: int = Field(default=50051, ge=1, le=65535)
    """gRPC port of a self-hosted Weaviate (the client sends batches and queries over gRPC)."""

    weaviate_grpc_host: str | None = None
    """gRPC host of a self-hosted Weaviate, when it differs from the host of ``weaviate_url``."""

    weaviate_collection: str = "CoordinationContext"
    """Name of the Weaviate collection that holds the context records."""

    weaviate_vectorizer: Literal["none", "text2vec-ollama", "text2vec-openai"] = "none"
    """How Weaviate gets vectors: ``none`` (self-provided from the embedding settings, or BM25
    only without them), or a server-side module."""

    weaviate_vectorizer_endpoint: str | None = None
    """API endpoint the server-side vectorizer module calls (e.g. ``http://ollama:11434``)."""

    weaviate_vectorizer_model: str | None = None
    """Model the server-side vectorizer module uses (e.g. ``nomic-embed-text``)."""

    weaviate_timeout: float = Field(default=30.0, gt=0)
    """Seconds to wait for Weaviate on connect, query and insert."""

    weaviate_skip_init_checks: bool = False
    """Skip the client's start-up checks (gRPC health ping, PyPI version check)."""

    weaviate_block: str | None = None
    """Name of a ``WeaviateConnection`` Prefect block to take every ``weaviate_*`` setting from
    (URL, API key, gRPC host and port, collection, vectorizer, timeout); it replaces them all."""

    embedding_base_url: str | None = None
    """OpenAI-compatible ``/v1`` endpoint for embeddings; unset: full-text search only."""

    embedding_model: str | None = None
    """Embedding model name at ``embedding_base_url`` (needed with it)."""

    embedding_api_key: SecretStr | None = None
    """Key for ``embedding_base_url`` (default: ``openai_api_key``; local servers need none)."""

    github_step_summary: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_GITHUB_STEP_SUMMARY", "GITHUB_STEP_SUMMARY"),
    )
    """GitHub Actions' job-summary file; Markdown reports are appended to it when set."""

    analysis_workers: int | None = Field(default=None, ge=1)
    """Slow analyzer tools' chunks run at once (default: the number of CPUs)."""

    analysis_python: str = "auto"
    """The interpreter bandit and radon parse the code with: ``auto`` (one that can parse the
    project: its minimum Python from requires-python, ruff's target-version, .python-version
    or its environment; the running one when recent enough, else the project's environment,
    ``python3.X`` on PATH or pyenv), ``current`` (only the running one), or a path."""

    analysis_tool_envs: Path | None = None
    """Where the small environments with bandit and radon for other interpreters are built
    (default ``$CONDUCTOR_HOME/tools``; one per interpreter, from the configured package index)."""

    pyenv_root: Path | None = Field(
        default=None, validation_alias=AliasChoices("CONDUCTOR_PYENV_ROOT", "PYENV_ROOT")
    )
    """pyenv's root, searched for interpreters (default ``~/.pyenv``)."""

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CONDUCTOR_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    """Key for the openai backend (any OpenAI-compatible endpoint; local servers need none)."""

    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
    )
    """Key for the anthropic backend."""

    llm_block: str | None = None
    """Name of an ``LLMBackendConfig`` Prefect block the ``openai``/``anthropic`` backends take
    model, endpoint, key and knobs from when their options name no ``llm_block``; used only by
    the backend its ``provider`` names (the backend option ``llm_block=""`` turns it off)."""

    audit_flush_interval: float = Field(default=0.2, gt=0)
    """Seconds between audit-log batch writes; events are queued, never written inline."""

    audit_batch_size: int = Field(default=2000, ge=1)
    """Largest number of audit events written in one batch (one COPY on PostgreSQL)."""

    audit_spool_after: float = Field(default=30.0, ge=0)
    """Seconds the audit database may be unreachable before queued events are spooled to disk
    (``$CONDUCTOR_HOME/spool``; replayed on the next successful connection)."""

    audit_max_queue: int = Field(default=100_000, ge=1)
    """Most audit events held in memory; beyond it new events go straight to the spool."""

    airbyte_server_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "CONDUCTOR_AIRBYTE_SERVER_URL", "AIRBYTE_SERVER_URL", "AIRBYTE_API_URL"
        ),
    )
    """Airbyte public API: ``https://api.airbyte.com/v1`` (Cloud, the default) or a
    self-hosted ``http(s)://HOST/api/public/v1``."""

    airbyte_client_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_AIRBYTE_CLIENT_ID", "AIRBYTE_CLIENT_ID"),
    )
    """Client id of an Airbyte application (client-credentials auth)."""

    airbyte_client_secret: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_AIRBYTE_CLIENT_SECRET", "AIRBYTE_CLIENT_SECRET"),
    )
    """Client secret of that Airbyte application."""

    airbyte_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_AIRBYTE_API_KEY", "AIRBYTE_API_KEY"),
    )
    """A ready bearer token for the Airbyte API, instead of client id and secret."""

    airbyte_connection_id: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_AIRBYTE_CONNECTION_ID", "AIRBYTE_CONNECTION_ID"),
    )
    """The Airbyte connection `conductor maintenance airbyte-sync` triggers."""

    airbyte_block: str | None = None
    """Name of an ``AirbyteCredentials`` Prefect block to take the Airbyte settings from."""

    env_installer: Literal["auto", "uv", "pip"] = "auto"
    """What builds the isolated test environment of a project without its own: ``uv``,
    ``pip`` (venv + pip), or ``auto``: uv when it is installed and pip's configuration names
    no index uv would not see (uv does not read pip.conf or PIP_INDEX_URL)."""

    env_build_timeout: float = Field(default=1800.0, gt=0)
    """Seconds one build step of a project's test environment (venv, install, sync) may take."""

    server_allow_commands: bool = False
    """Let MCP/HTTP callers run workflows with command or import-path agents, or the command
    implementer backend (remote code execution: only for trusted callers)."""

    api_token: SecretStr | None = None
    """Bearer token the HTTP API and MCP-over-HTTP require (``CONDUCTOR_API_TOKEN``); without
    one the server only binds to loopback."""

    allowed_roots: Annotated[list[Path], NoDecode] = Field(default_factory=list)
    """Directories server requests may name codebases and specs in (``CONDUCTOR_ALLOWED_ROOTS``,
    separated by ``os.pathsep`` or commas); empty: the current working directory."""

    server_allowed_hosts: Annotated[list[str], NoDecode] = Field(default_factory=list)
    """Extra host names the HTTP server answers to (``CONDUCTOR_SERVER_ALLOWED_HOSTS``, comma
    separated), e.g. the name of a reverse proxy; loopback names and the bound address always
    are. Other ``Host`` headers get 421 (a DNS-rebinding page cannot reach the server)."""

    max_parallel_tasks: int = Field(default=4, ge=1, le=256)
    """Runs the server executes at once in its own process (without a Prefect deployment)."""

    metrics_pushgateway: str | None = None
    """Prometheus Pushgateway URL (e.g. ``http://pushgateway:9091``); when set, every conductor
    flow run pushes its duration, final state, task durations, findings and LLM usage there as
    it ends (job ``ai_conductor``, grouped by flow and deployment)."""

    prefect_server: Literal["shared", "temporary"] = "shared"
    """Where ``conductor run`` sends its flow runs when PREFECT_API_URL is not set: ``shared``
    starts one Prefect server in the background on first use and reuses it (``conductor server
    stop`` ends it); ``temporary`` lets Prefect start a server for each process (seconds each)."""

    prefect_server_start_timeout: float = Field(default=90.0, gt=0)
    """Seconds to wait for a local Prefect server (the shared one, or Prefect's temporary one)
    to answer before the run fails with exit code 3."""

    prefect_home: Path = Field(default=Path("~/.prefect"), validation_alias="PREFECT_HOME")
    """Prefect's home (``PREFECT_HOME``): the shared server's database and its record live there."""

    forge: Literal["auto", "github", "gitlab", "gitea"] = "auto"
    """Where pull requests are opened (``--publish``): ``auto`` reads the remote's URL
    (github.com, gitlab.com, codeberg.org, or the host of the configured API URL)."""

    github_api_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_GITHUB_API_URL", "GITHUB_API_URL"),
    )
    """GitHub's REST API (GitHub Actions sets it; GitHub Enterprise: ``https://HOST/api/v3``);
    default ``https://api.github.com``."""

    github_repository: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_GITHUB_REPOSITORY", "GITHUB_REPOSITORY"),
    )
    """``owner/name`` of the repository (GitHub Actions sets it); default: from the remote URL."""

    github_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_GITHUB_TOKEN", "GITHUB_TOKEN"),
    )
    """Token that pushes and opens pull requests (contents and pull-requests write)."""

    github_token_block: str | None = None
    """Name of a Prefect ``Secret`` block holding the GitHub token, instead of the variable."""

    github_ref: str | None = Field(
        default=None, validation_alias=AliasChoices("CONDUCTOR_GITHUB_REF", "GITHUB_REF")
    )
    """The ref a GitHub Actions job runs for (``refs/pull/N/merge`` names the pull request
    `analyze --diff-base --publish` reviews)."""

    gitlab_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CONDUCTOR_GITLAB_API_URL", "CI_API_V4_URL")
    )
    """GitLab's REST API v4 (GitLab CI sets it); default: ``https://<remote host>/api/v4``."""

    gitlab_project: str | None = Field(
        default=None,
        validation_alias=AliasChoices(
            "CONDUCTOR_GITLAB_PROJECT", "CI_PROJECT_ID", "CI_PROJECT_PATH"
        ),
    )
    """Project id or ``group/name`` path (GitLab CI sets them); default: from the remote URL."""

    gitlab_token: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CONDUCTOR_GITLAB_TOKEN", "GITLAB_TOKEN")
    )
    """Token with the ``api`` and ``write_repository`` scopes (a project or personal token)."""

    gitlab_token_block: str | None = None
    """Name of a Prefect ``Secret`` block holding the GitLab token."""

    gitlab_merge_request: int | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_GITLAB_MERGE_REQUEST", "CI_MERGE_REQUEST_IID"),
    )
    """The merge request a GitLab CI merge-request pipeline runs for."""

    gitea_api_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CONDUCTOR_GITEA_API_URL", "GITEA_API_URL")
    )
    """Gitea's or Forgejo's API (``https://HOST/api/v1``); default: from the remote's host."""

    gitea_repository: str | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_GITEA_REPOSITORY", "GITEA_REPOSITORY"),
    )
    """``owner/name`` on Gitea/Forgejo; default: from the remote URL."""

    gitea_token: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_GITEA_TOKEN", "GITEA_TOKEN", "FORGEJO_TOKEN"),
    )
    """Gitea/Forgejo access token (scopes: repository and issue read/write)."""

    gitea_token_block: str | None = None
    """Name of a Prefect ``Secret`` block holding the Gitea/Forgejo token."""

    git_username: str | None = None
    """User name sent with the token when git pushes over HTTPS (default per forge:
    ``x-access-token`` on GitHub, ``oauth2`` on GitLab and Gitea/Forgejo)."""

    @field_validator("allowed_roots", mode="before")
    @classmethod
    def _split_roots(cls, value: Any) -> Any:
        if isinstance(value, str):
            parts = value.replace(",", os.pathsep).split(os.pathsep)
            return [Path(p.strip()) for p in parts if p.strip()]
        return value

    @field_validator("server_allowed_hosts", mode="before")
    @classmethod
    def _split_hosts(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [h.strip() for h in value.split(",") if h.strip()]
        return value

    @property
    def home_dir(self) -> Path:
        return expand_user(self.home)

    @property
    def tool_envs_dir(self) -> Path:
        """The analyzer's tool environments for other interpreters."""
        return expand_user(self.analysis_tool_envs or self.home_dir / "tools")

    @property
    def pyenv_root_dir(self) -> Path:
        return expand_user(self.pyenv_root or Path("~/.pyenv"))

    @property
    def prefect_home_dir(self) -> Path:
        return expand_user(self.prefect_home)

    @property
    def results_dir(self) -> Path:
        """Persisted Prefect task results (the resume-after-crash cache)."""
        return self.home_dir / "results"

    @property
    def spool_dir(self) -> Path:
        """Audit events that could not be written wait here for replay."""
        return self.home_dir / "spool"

    def audit_url(self) -> str:
        """The explicit audit URL, or the embedded SQLite default (block lookup is the store's)."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.home_dir / 'conductor.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment once."""
    return Settings()


def reload_settings() -> Settings:
    """Forget cached settings and read the environment again."""
    get_settings.cache_clear()
    return get_settings()
