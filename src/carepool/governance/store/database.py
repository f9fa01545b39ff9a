"""Opening the portal's database: made on first use, brought up to date by its owner.

A new database (SQLite file or an empty PostgreSQL schema) is made from the declared tables
and stamped at the newest revision; an existing one is upgraded by ``carepool db migrate``
only, never as a side effect of serving pages.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from carepool.errors import ConfigError
from carepool.governance.store.schema import metadata

VERSION_TABLE = "carepool_portal_version"

SQLITE_APPEND_ONLY = """
CREATE TRIGGER {table}_no_{verb} BEFORE {verb} ON {table}
BEGIN SELECT RAISE(ABORT, 'carepool portal: {table} is append-only'); END
"""
POSTGRES_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION carepool_portal_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'carepool portal: %% is append-only', TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
#: Tables nobody edits or deletes from: what was done stays done.
APPEND_ONLY = ("audit_log",)


def open_engine(url: str) -> Engine:
    """An engine for the portal's database at ``url`` (``sqlite:///FILE`` or PostgreSQL)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise ConfigError(
            f"CAREPOOL_PORTAL_DATABASE_URL={url!r} is not a database URL: {exc}"
        ) from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        return create_engine(parsed, pool_size=10, max_overflow=20)
    raise ConfigError(f"{backend!r} databases are not supported for the portal")


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()


def _config(connection: Connection) -> Config:
    config = Config()
    location = resources.files("carepool.governance.store") / "migrations"
    config.set_main_option("script_location", str(location))
    config.attributes["connection"] = connection
    return config


def revisions(engine: Engine) -> tuple[str | None, str]:
    """(the database's revision, the newest there is)."""
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        current = context.get_current_revision()
        head = ScriptDirectory.from_config(_config(connection)).get_current_head()
    assert head is not None
    return current, head


def migrate(engine: Engine) -> tuple[str | None, str]:
    """Make the portal's tables (a new database) or upgrade them; (before, after)."""
    before, head = revisions(engine)
    try:
        with engine.begin() as connection:
            if before is None and not inspect(connection).has_table("accounts"):
                metadata.create_all(connection)
                _append_only(connection)
                command.stamp(_config(connection), "head")
            else:
                command.upgrade(_config(connection), "head")
    except DBAPIError as exc:
        raise ConfigError(f"cannot set up the portal's database: {exc.orig}") from None
    return before, head


def _append_only(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for table in APPEND_ONLY:
            for verb in ("UPDATE", "DELETE"):
                connection.exec_driver_sql(SQLITE_APPEND_ONLY.format(table=table, verb=verb))
    else:
        connection.exec_driver_sql(POSTGRES_APPEND_ONLY)
        for table in APPEND_ONLY:
            connection.exec_driver_sql(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION carepool_portal_append_only()"
            )


def require_current(engine: Engine) -> None:
    """Set up a new database; refuse one at an older revision (its owner migrates it)."""
    current, head = revisions(engine)
    if current == head:
        return
    if current is None:
        with engine.connect() as connection:
            empty = not inspect(connection).has_table("accounts")
        if empty:
            migrate(engine)
            return
    raise ConfigError(
        f"the portal's database is at revision {current}; the newest is {head}. Its owner "
        "brings it up to date with `carepool db migrate`"
    )
