"""Engines for the audit database: URL resolution, engine creation, and the migrations runner.

Nothing connects at import. Error messages name the host and database but never a password.
"""

from __future__ import annotations

import functools
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError

from ai_conductor.errors import ConfigError, StoreError
from ai_conductor.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

HEAD: Final = "0004_event_id"
"""The newest migration revision; :func:`head_revision` reads it from the scripts."""

_SCRIPTS: Final = "ai_conductor.store:migrations"
_MIGRATING: Final = threading.Lock()  # alembic's ``context``/``op`` proxies are process globals
_ATTEMPTS: Final = 4
_ASYNC_TO_SYNC: Final = {
    "postgresql+asyncpg": "postgresql+psycopg2",
    "sqlite+aiosqlite": "sqlite",
    "mysql+aiomysql": "mysql+pymysql",
}


def url_from_connector(block: Any) -> str:
    """The full URL (password included) of a prefect-sqlalchemy connector block object.

    ``connection_info`` is either a URL string or ``ConnectionComponents``. Async drivers are
    mapped to their sync counterparts, since the audit log uses a sync engine.
    """
    info = block.connection_info
    url: URL = info.create_url() if hasattr(info, "create_url") else make_url(str(info))
    url = url.set(drivername=_ASYNC_TO_SYNC.get(url.drivername, url.drivername))
    return url.render_as_string(hide_password=False)


def resolve_database_url(settings: Settings) -> str:
    """The audit URL: from the ``database_block`` connector block if set, else ``audit_url()``."""
    name = settings.database_block
    if not name:
        return settings.audit_url()
    from ai_conductor._prefect import load_sqlalchemy_connector

    try:
        block = load_sqlalchemy_connector(name)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise ConfigError(
            f"cannot load the SqlAlchemyConnector block {name!r} (CONDUCTOR_DATABASE_BLOCK): "
            f"{reason}; create it with SqlAlchemyConnector(...).save({name!r}) and check "
            "PREFECT_API_URL"
        ) from None
    return url_from_connector(block)


def safe_url(url: str) -> str:
    """``url`` with its password masked, or a placeholder when it does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable database URL>"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _build(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:" and not url.query.get("uri"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        if url.database and url.database != ":memory:":
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if (
        url.drivername in ("postgresql", "postgresql+psycopg2")
        and "connect_timeout" not in url.query
    ):
        connect_args["connect_timeout"] = 10
    pool: dict[str, Any] = {"pool_size": 5, "max_overflow": 10}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args, **pool)


def create_engine_for(url: str) -> Engine:
    """An engine for ``url`` that has connected once; :class:`StoreError` if it cannot.

    SQLite: the parent directory is created, WAL journal and a busy timeout are set per connection.
    PostgreSQL: a pool of 5 (+10 overflow) with pre-ping; TLS options in the query pass through.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            "the audit database URL does not parse; expected e.g. "
            "postgresql+psycopg2://user@host:5432/db or sqlite:////path/conductor.db"
        ) from None
    shown = parsed.render_as_string(hide_password=True)
    try:
        engine = _build(parsed)
    except OSError as exc:
        raise StoreError(f"cannot create the directory for {shown}: {exc}") from None
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"no SQLAlchemy driver for {parsed.drivername!r} ({shown}): {exc}"
        ) from None
    try:
        with engine.connect():
            pass
    except SQLAlchemyError as exc:
        engine.dispose()
        raise StoreError(
            f"cannot connect to the audit database {shown}: {_reason(exc, parsed)}"
        ) from None
    return engine


def _reason(exc: BaseException, url: URL) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = " ".join(str(orig).split())[:300]
    return (
        text.replace(url.password, "***")
        if isinstance(url.password, str) and url.password
        else text
    )


def _config() -> Config:
    from alembic.config import Config  # alembic loads only when a database is touched

    config = Config()
    config.set_main_option("script_location", _SCRIPTS)
    return config


@functools.cache
def head_revision() -> str:
    """The newest revision among the migration scripts."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:  # pragma: no cover - the package always ships migrations
        raise StoreError("no audit-log migrations found in the package")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for a database Alembic never touched."""
    from alembic.runtime.migration import MigrationContext

    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except SQLAlchemyError as exc:
        raise StoreError(
            f"cannot read the schema revision of {_shown(engine)}: {_reason(exc, engine.url)}"
        ) from None


def _stored_revision(engine: Engine) -> str | None:
    """The revision in ``alembic_version``, read with plain SQL; None when there is none yet
    (or it cannot be read: then :func:`upgrade` takes alembic's way and reports the error)."""
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:
        return None
    return str(rows[0]) if len(rows) == 1 else None


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to ``revision`` (default head); a cheap no-op when already there.

    Safe to call from several threads and processes at once: PostgreSQL serialises on an advisory
    lock; elsewhere a loser of the race re-checks the revision and retries.
    """
    if revision == "head" and _stored_revision(engine) == HEAD:
        return  # every process checks: without loading alembic and its scripts (~0.2 s)
    from alembic import command
    from alembic.util import CommandError

    target = head_revision() if revision == "head" else revision
    for attempt in range(_ATTEMPTS):
        if current_revision(engine) == target:
            return
        config = _config()
        try:
            with _MIGRATING, engine.connect() as conn:
                config.attributes["connection"] = conn
                command.upgrade(config, revision)
            return
        except CommandError as exc:  # e.g. a database migrated by a newer ai-conductor
            raise StoreError(
                f"cannot migrate {_shown(engine)} to {target}: {exc} "
                "(is the database newer than this ai-conductor?)"
            ) from None
        except SQLAlchemyError as exc:
            if attempt == _ATTEMPTS - 1:
                reason = _reason(exc, engine.url)
                raise StoreError(
                    f"migrating {_shown(engine)} to {target} failed: {reason}"
                ) from None
            time.sleep(0.2 * (attempt + 1))  # another process may be migrating: look again
