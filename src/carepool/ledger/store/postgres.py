"""The write path's statements under a fund's lock, in PostgreSQL's own SQL.

A fund's writes are serialised, so the time between taking its lock and committing is what
bounds its throughput. On PostgreSQL that time is mostly client-side statement handling, not
the server's work, so the three statements every write runs — take the lock, read the chain
head with the closed periods and the request ids already posted, write the entries — go
straight to the driver (psycopg) on the transaction's own connection: each is one fixed
statement, prepared once by the driver and reused; the lock and the read go to the server
together (one round trip), and the entries of both tables go in one statement (a
data-modifying ``WITH``) with the rows as arrays. Everything else, and all of
SQLite, goes through SQLAlchemy; the results are the same (the tests run on both databases).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

LOCK = "SELECT id FROM funds WHERE id = %(fund)s FOR UPDATE"

#: The write path's statements are fixed and look up by key, so the plan prepared once for
#: any values (a generic plan) is the one a value would get: planning each execution afresh
#: (PostgreSQL's default for a statement's first runs, and whenever it judges a custom plan
#: no dearer) costs more than running it. For this transaction only.
GENERIC_PLANS = "SET LOCAL plan_cache_mode = force_generic_plan"

OPENING = """
SELECT seq, hash, kind, period, request_id, request_digest,
       CASE WHEN kind IN ('close', 'user') THEN actor END AS actor,
       request_id = ANY(%(ids)s::varchar[]) AS asked,
       CASE WHEN request_id = ANY(%(ids)s::varchar[]) OR kind = 'user' THEN payload END
           AS payload
FROM journal
WHERE fund_id = %(fund)s
  AND (seq = (SELECT max(seq) FROM journal WHERE fund_id = %(fund)s)
       OR kind IN ('close', 'user')
       OR request_id = ANY(%(ids)s::varchar[]))
"""

#: The movement of a fund's postings in a range of entries; bounded on both sides so that the
#: plan prepared once for any bounds (a generic plan) walks the primary key's index.
MOVED = """
SELECT coalesce(sum(abs(amount_pence)), 0) FROM postings
WHERE fund_id = %(fund)s AND seq > %(after)s AND seq <= %(head)s
"""

JOURNAL_COLUMNS = (
    ("fund_id", "varchar"),
    ("seq", "bigint"),
    ("kind", "varchar"),
    ("period", "varchar"),
    ("posted_at", "varchar"),
    ("actor", "varchar"),
    ("request_id", "varchar"),
    ("request_digest", "varchar"),
    ("description", "text"),
    ("ref_seq", "bigint"),
    ("payload", "text"),
    ("prev_hash", "varchar"),
    ("hash", "varchar"),
    ("salt", "varchar"),
    ("request", "text"),
)
POSTING_COLUMNS = (
    ("fund_id", "varchar"),
    ("seq", "bigint"),
    ("no", "integer"),
    ("period", "varchar"),
    ("account", "varchar"),
    ("line_id", "varchar"),
    ("partner_id", "varchar"),
    ("category", "varchar"),
    ("amount_pence", "bigint"),
)


#: Text columns full of JSON's quotes, sent base64-encoded: escaping every quote of a text
#: array element is most of the client's cost of the insert, and base64 needs none.
ENCODED = frozenset({"payload", "request"})


def _unnest(table: str, columns: tuple[tuple[str, str], ...]) -> str:
    names = ", ".join(name for name, _ in columns)
    arrays = ", ".join(f"%({table}_{name})s::{kind}[]" for name, kind in columns)
    values = ", ".join(
        f"convert_from(decode({name}, 'base64'), 'UTF8')" if name in ENCODED else name
        for name, _ in columns
    )
    return f"INSERT INTO {table} ({names}) SELECT {values} FROM unnest({arrays}) AS v({names})"


def _encoded(value: str | None) -> str | None:
    return None if value is None else base64.b64encode(value.encode("utf-8")).decode("ascii")


INSERT = f"WITH j AS ({_unnest('journal', JOURNAL_COLUMNS)}) {_unnest('postings', POSTING_COLUMNS)}"


def _driver(connection: Connection) -> Any:
    """The psycopg connection under ``connection``, in the same transaction."""
    return connection.connection.driver_connection


@contextmanager
def _as_sqlalchemy(connection: Connection, statement: str) -> Iterator[None]:
    """Raise the driver's errors as SQLAlchemy's (``IntegrityError``, ``OperationalError``
    ...), as statements through SQLAlchemy would, so callers and retries see one kind."""
    dbapi_error = connection.dialect.loaded_dbapi.Error
    try:
        yield
    except dbapi_error as exc:
        raise DBAPIError.instance(
            statement, None, exc, dbapi_error, dialect=connection.dialect
        ) from exc


def lock_and_open(
    connection: Connection, fund_id: str, request_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """Take the fund's row lock, then read its head entry, its close and user entries and the
    entries posted under ``request_ids`` (in no particular order).

    The two statements go to the server together (psycopg's pipeline mode), one round trip
    instead of two, and the server runs them in order: under READ COMMITTED each statement
    sees every write committed before it started, and the read starts only once the lock is
    held, so it sees the chain as the last writer left it. ``payload`` is read only for user
    entries and the requested ones (a close entry's payload carries a month's totals);
    ``asked`` marks the requested ones.
    """
    driver = _driver(connection)
    with _as_sqlalchemy(connection, f"{GENERIC_PLANS}; {LOCK}; {OPENING}"):
        with driver.pipeline():
            driver.execute(GENERIC_PLANS)
            driver.execute(LOCK, {"fund": fund_id})
            cursor = driver.execute(OPENING, {"fund": fund_id, "ids": list(request_ids)})
        names = [c.name for c in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def moved(connection: Connection, fund_id: str, after: int, head: int) -> int:
    """The sum of the absolute amounts of the fund's postings of entries ``after`` + 1 to
    ``head`` (numeric: it cannot overflow)."""
    with _as_sqlalchemy(connection, MOVED):
        cursor = _driver(connection).execute(MOVED, {"fund": fund_id, "after": after, "head": head})
        return int(cursor.fetchone()[0])


def insert(
    connection: Connection, entries: list[dict[str, Any]], postings: list[dict[str, Any]]
) -> None:
    """Write journal entries and their postings in one statement."""
    params: dict[str, list[Any]] = {}
    for table, rows, columns in (
        ("journal", entries, JOURNAL_COLUMNS),
        ("postings", postings, POSTING_COLUMNS),
    ):
        for name, _ in columns:
            if name in ENCODED:
                params[f"{table}_{name}"] = [_encoded(row[name]) for row in rows]
            else:
                params[f"{table}_{name}"] = [row[name] for row in rows]
    with _as_sqlalchemy(connection, INSERT):
        _driver(connection).execute(INSERT, params)
