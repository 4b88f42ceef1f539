"""One settings model for the whole product: environment variables with the ``CONDUCTOR_`` prefix.

Nothing else in the package reads the environment. ``get_settings()`` caches the model;
``reload_settings()`` re-reads the environment (tests and long-lived servers use it).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


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

    context_store: Literal["embedded", "weaviate"] = "embedded"
    """Context store backend."""

    weaviate_url: str | None = Field(
        default=None, validation_alias=AliasChoices("CONDUCTOR_WEAVIATE_URL", "WEAVIATE_URL")
    )
    """Weaviate endpoint when ``context_store`` is ``weaviate``."""

    weaviate_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_WEAVIATE_API_KEY", "WEAVIATE_API_KEY"),
    )
    """Weaviate API key (Weaviate Cloud)."""

    github_step_summary: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_GITHUB_STEP_SUMMARY", "GITHUB_STEP_SUMMARY"),
    )
    """GitHub Actions' job-summary file; Markdown reports are appended to it when set."""

    analysis_workers: int | None = Field(default=None, ge=1)
    """Processes for slow analyzer tools (default: the number of CPUs)."""

    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("CONDUCTOR_OPENAI_API_KEY", "OPENAI_API_KEY")
    )
    """Key for the openai backend (any OpenAI-compatible endpoint; local servers need none)."""

    anthropic_api_key: SecretStr | None = Field(
        default=None,
        validation_alias=AliasChoices("CONDUCTOR_ANTHROPIC_API_KEY", "ANTHROPIC_API_KEY"),
    )
    """Key for the anthropic backend."""

    audit_flush_interval: float = Field(default=0.2, gt=0)
    """Seconds between audit-log batch writes; events are queued, never written inline."""

    audit_batch_size: int = Field(default=500, ge=1)
    """Largest number of audit events written in one statement."""

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser()

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
