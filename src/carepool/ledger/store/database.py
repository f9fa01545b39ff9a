"""Connecting to the ledger's database, migrating it, and running one write at a time.

SQLite (the default, a file in the data directory) and PostgreSQL are both supported through
SQLAlchemy. Writes to one fund are serialised, because each journal entry is chained to the one
before it: on PostgreSQL the writer locks the fund's row (``SELECT ... FOR UPDATE``) for the
length of its transaction; on SQLite the transaction starts with ``BEGIN IMMEDIATE``, which
takes the database's single write lock. A transaction that fails for a reason worth retrying
(a deadlock, a serialisation failure, a busy SQLite file) is run again from the start.
"""

from __future__ import annotations

import os
import random
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError

from carepool.errors import CarepoolError, ConfigError, LedgerError, PermissionDenied

T = TypeVar("T")

#: SQLSTATEs that mean "run the transaction again": serialization_failure, deadlock_detected.
RETRY_SQLSTATES = frozenset({"40001", "40P01"})
#: The SQLSTATE of a privilege the login lacks, or a check of the ledger's own triggers.
INSUFFICIENT_PRIVILEGE = "42501"
MAX_ATTEMPTS = 50
#: Marks a connection whose SQLite transactions need not take the write lock.
READ_ONLY = "carepool_read_only"
#: A person's role name as the ledger's user names are written (no spaces or quotes).
ROLE_NAME = re.compile(r"[A-Za-z0-9_.@-]{1,63}")


def database_url(url: str) -> str:
    """Name the driver carepool uses for a bare ``postgresql://`` URL (psycopg 3)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise LedgerError(f"CAREPOOL_DATABASE_URL={url!r} is not a database URL: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise LedgerError(
            f"{parsed.get_backend_name()!r} databases are not supported; use sqlite:///FILE "
            "or postgresql://USER@HOST/DB"
        )
    return parsed.render_as_string(hide_password=False)


def open_engine(
    url: str, *, schema: str | None = None, create: bool = True, role: str | None = None
) -> Engine:
    """An engine for ``url``. ``schema`` (PostgreSQL only) puts the ledger in that schema.

    ``role`` (PostgreSQL only) is the person the connection acts as: the server's login sets
    that role at connection start (``-c role=NAME``), which the database allows only if the
    login is a member of the person's role. Their entries then carry them as the database's
    ``current_user``, checked by the same triggers as a person logging in themselves; this is
    how the portal posts for the person signed in to it (docs/deployment.md).

    A SQLite file that does not exist yet is made (with its folder) only with ``create``: a
    command that only reads never leaves a database, or a folder, behind.
    """
    url = database_url(url)
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:":
            if not create and not Path(path).is_file():
                raise ConfigError(
                    f"no ledger database at {path}; open a fund first with "
                    "`carepool ledger init --spec FILE`"
                )
            _owned_by_this_user(Path(path))
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        _sqlite_begin_immediate(engine)
        return engine
    connect_args: dict[str, Any] = {}
    parsed = make_url(url)
    # the URL's own ``options`` (a search path, say) are kept beside those added here
    options = [str(parsed.query["options"])] if "options" in parsed.query else []
    url = parsed.difference_update_query(["options"]).render_as_string(hide_password=False)
    if schema:
        options.append(f"-csearch_path={schema}")
    if role:
        if not ROLE_NAME.fullmatch(role):
            raise PermissionDenied(f"{role!r} cannot be a database role")
        options.append(f"-crole={role}")
    if options:
        connect_args["options"] = " ".join(options)
    # READ COMMITTED whatever the server's default: a writer's reads after the fund's lock
    # must see the previous writer's commit (ADR 0002)
    return create_engine(
        url,
        connect_args=connect_args,
        pool_size=10,
        max_overflow=20,
        isolation_level="READ COMMITTED",
    )


def _owned_by_this_user(path: Path) -> None:
    """SQLite is the single-user local mode: the operating-system user who owns the file is
    the principal, and nobody else's process may use it."""
    try:
        owner = path.stat().st_uid
    except FileNotFoundError:
        return
    if hasattr(os, "geteuid") and owner != os.geteuid():
        raise LedgerError(
            f"{path} belongs to another operating-system user; a SQLite ledger is used only by "
            "the user who owns it (for several people, use PostgreSQL: docs/deployment.md)"
        )


def _sqlite_begin_immediate(engine: Engine) -> None:
    """Let SQLAlchemy, not the sqlite3 module, start transactions, and start them IMMEDIATE.

    The recipe from SQLAlchemy's SQLite dialect notes: the driver's own transaction handling
    is switched off, and every transaction takes the write lock at once, so two writers
    never both read the chain head and then collide.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        read_only = connection.info.get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _alembic_config(connection: Connection) -> Config:
    config = Config()
    location = resources.files("carepool.ledger.store") / "migrations"
    config.set_main_option("script_location", str(location))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine) -> None:
    """Bring the database's ledger tables to the newest migration (Alembic ``upgrade head``)."""
    try:
        with engine.begin() as connection:
            command.upgrade(_alembic_config(connection), "head")
    except OperationalError as exc:
        raise LedgerError(f"cannot reach the ledger database {_safe(engine)}: {exc.orig}") from None
    except DBAPIError as exc:  # a login that does not own the tables, say
        raise refused(exc) from None


def is_current(engine: Engine) -> bool:
    """Whether the database has every migration applied."""
    current, head = revisions(engine)
    return current == head


def revisions(engine: Engine) -> tuple[str | None, str | None]:
    """(the database's migration, the newest there is); None for a database with none."""
    try:
        with engine.connect() as connection:
            current = MigrationContext.configure(connection).get_current_revision()
            head = ScriptDirectory.from_config(_alembic_config(connection)).get_current_head()
    except OperationalError as exc:
        raise LedgerError(f"cannot reach the ledger database {_safe(engine)}: {exc.orig}") from None
    except DBAPIError as exc:
        raise refused(exc) from None
    return current, head


def require_current(engine: Engine) -> None:
    """Refuse a ledger database whose tables are not at the newest migration.

    Migrations are run by the database's owner with ``carepool db migrate``, never as a side
    effect of using the ledger: the logins that post cannot change the tables. The one
    exception is a new SQLite file, the single-user local mode, which is set up on first use
    by the operating-system user who creates it.
    """
    current, head = revisions(engine)
    if current == head:
        return
    if current is None and engine.dialect.name == "sqlite" and not _has_tables(engine):
        migrate(engine)
        return
    where = "has no ledger tables" if current is None else f"is at migration {current}"
    raise LedgerError(
        f"the ledger database {_safe(engine)} {where}; the newest is {head}. Its owner "
        "brings it up to date with `carepool db migrate`"
    )


def _has_tables(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.dialect.get_table_names(connection))


def principal(engine: Engine) -> tuple[str | None, bool]:
    """(the database login, whether it may act for any user of a fund).

    On PostgreSQL the login is who posts: a person's own role, checked by the database.
    Its owner (and a superuser) may act for anyone — the database cannot stop them anyway,
    and checkpoints are what catch them. SQLite is the single-user local mode: no login, and
    the operating-system user who owns the file is the principal.
    """
    if engine.dialect.name != "postgresql":
        return None, True
    with engine.connect() as connection:
        login, owner = connection.exec_driver_sql(
            "SELECT current_user::text, pg_catalog.pg_has_role(current_user, "
            "(SELECT c.relowner FROM pg_catalog.pg_class c "
            "WHERE c.oid = pg_catalog.to_regclass('journal')), 'MEMBER')"
        ).one()
    return str(login), bool(owner)


def refused(exc: DBAPIError) -> CarepoolError:
    """A database refusal as the project's error: no privilege is a PermissionDenied."""
    if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
        return PermissionDenied(f"the ledger database refused: {_first_line(exc.orig)}")
    return LedgerError(f"the ledger database refused: {_first_line(exc.orig)}")


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else repr(error)


def _safe(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _retryable(exc: DBAPIError) -> bool:
    sqlstate = getattr(exc.orig, "sqlstate", None)
    if sqlstate in RETRY_SQLSTATES:
        return True
    return "database is locked" in str(exc.orig)


def run_write(engine: Engine, work: Callable[[Connection], T]) -> T:
    """Run ``work`` in one transaction, retrying the whole of it when that is safe.

    ``work`` sees a connection inside the transaction and takes the fund's write lock first
    (by opening a :class:`carepool.ledger.store.writer.Tx`); everything it writes commits together
    or not at all.
    """
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with engine.begin() as connection:
                return work(connection)
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
                raise refused(exc) from None
            if not _retryable(exc) or attempt == MAX_ATTEMPTS:
                raise
            time.sleep(random.uniform(0, 0.002 * attempt))
    raise AssertionError("unreachable")  # pragma: no cover


@contextmanager
def reading(engine: Engine) -> Iterator[Connection]:
    """A connection for reading: one consistent snapshot, and no write lock on SQLite."""
    with engine.connect() as connection:
        connection.info[READ_ONLY] = True
        try:
            with connection.begin():
                yield connection
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) == INSUFFICIENT_PRIVILEGE:
                raise refused(exc) from None
            raise
        finally:
            connection.info.pop(READ_ONLY, None)
