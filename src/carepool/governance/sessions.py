"""Portal sessions and API tokens: random secrets, stored only as their SHA-256.

A session lasts while it is used (idle timeout) and never longer than its absolute life; a
token lasts until it expires. Either can be revoked, and disabling an account ends all of
both. Each session carries its own CSRF token, which every form posted under it must echo.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy import Connection

from carepool.errors import AuthenticationError, ConfigError
from carepool.governance import accounts as accounts_
from carepool.governance.clock import Clock, read_stamp, stamp
from carepool.governance.roles import Principal
from carepool.governance.store.schema import sessions, tokens

IDLE = timedelta(minutes=30)
ABSOLUTE = timedelta(hours=12)
TOKEN_DAYS_DEFAULT = 90
TOKEN_DAYS_MAX = 365
TOKEN_PREFIX = "cpt"
#: Refresh a session's last-seen time at most this often (one write a minute, not a request).
TOUCH_EVERY = timedelta(seconds=60)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    secret: str
    principal: Principal
    csrf: str
    expires_at: str


@dataclass(frozen=True)
class IssuedToken:
    id: str
    secret: str
    account: str
    label: str
    expires_at: str


def start_session(connection: Connection, account: accounts_.Account, clock: Clock) -> Session:
    now = clock()
    secret = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    connection.execute(
        sessions.insert().values(
            secret_hash=_digest(secret),
            account=account.name,
            csrf=csrf,
            created_at=stamp(now),
            expires_at=stamp(now + ABSOLUTE),
            last_seen_at=stamp(now),
            revoked_at=None,
        )
    )
    return Session(secret, account.principal("session"), csrf, stamp(now + ABSOLUTE))


def resume_session(connection: Connection, secret: str, clock: Clock) -> Session:
    """The live session this secret opens, or :class:`AuthenticationError`."""
    now = clock()
    row = connection.execute(
        sa.select(sessions).where(sessions.c.secret_hash == _digest(secret))
    ).first()
    if row is None:
        raise AuthenticationError("your session has ended; sign in again")
    m = row._mapping
    last_seen = read_stamp(m["last_seen_at"])
    if m["revoked_at"] is not None or now >= read_stamp(m["expires_at"]) or now - last_seen >= IDLE:
        raise AuthenticationError("your session has ended; sign in again")
    account = _live_account(connection, m["account"])
    if now - last_seen >= TOUCH_EVERY:
        connection.execute(
            sessions.update()
            .where(sessions.c.secret_hash == m["secret_hash"])
            .values(last_seen_at=stamp(now))
        )
    return Session(secret, account.principal("session"), m["csrf"], m["expires_at"])


def end_session(connection: Connection, secret: str, clock: Clock) -> None:
    connection.execute(
        sessions.update()
        .where(sessions.c.secret_hash == _digest(secret), sessions.c.revoked_at.is_(None))
        .values(revoked_at=stamp(clock()))
    )


def csrf_matches(session: Session, presented: str | None) -> bool:
    return presented is not None and hmac.compare_digest(session.csrf, presented)


def issue_token(
    connection: Connection, account_name: str, label: str, days: int, clock: Clock
) -> IssuedToken:
    if not 1 <= days <= TOKEN_DAYS_MAX:
        raise ConfigError(f"a token lasts 1 to {TOKEN_DAYS_MAX} days, not {days}")
    _live_account(connection, account_name)
    now = clock()
    token_id = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    expires = stamp(now + timedelta(days=days))
    connection.execute(
        tokens.insert().values(
            id=token_id,
            secret_hash=_digest(secret),
            account=account_name,
            label=(label or "API token")[:120],
            created_at=stamp(now),
            expires_at=expires,
            revoked_at=None,
        )
    )
    return IssuedToken(
        token_id, f"{TOKEN_PREFIX}_{token_id}_{secret}", account_name, label, expires
    )


def resolve_token(connection: Connection, presented: str, clock: Clock) -> Principal:
    """The principal behind a bearer token, or :class:`AuthenticationError`."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(presented) > 200:
        raise AuthenticationError("the API token is not one carepool issued")
    row = connection.execute(sa.select(tokens).where(tokens.c.id == parts[1])).first()
    if row is None or not hmac.compare_digest(row._mapping["secret_hash"], _digest(parts[2])):
        raise AuthenticationError("the API token is not one carepool issued")
    m = row._mapping
    if m["revoked_at"] is not None or clock() >= read_stamp(m["expires_at"]):
        raise AuthenticationError("the API token has expired or been revoked")
    return _live_account(connection, m["account"]).principal("token")


def revoke_token(connection: Connection, token_id: str, clock: Clock) -> str:
    """Revoke one token by its id; the name of its account."""
    row = connection.execute(sa.select(tokens).where(tokens.c.id == token_id)).first()
    if row is None:
        raise ConfigError(f"no token with id {token_id!r}")
    connection.execute(
        tokens.update()
        .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
        .values(revoked_at=stamp(clock()))
    )
    return str(row._mapping["account"])


def revoke_all(connection: Connection, account_name: str, clock: Clock) -> None:
    """End every session and revoke every token of an account."""
    when = stamp(clock())
    for table in (sessions, tokens):
        connection.execute(
            table.update()
            .where(table.c.account == account_name, table.c.revoked_at.is_(None))
            .values(revoked_at=when)
        )


def list_tokens(connection: Connection, account_name: str | None = None) -> list[dict[str, str]]:
    query = sa.select(
        tokens.c.id,
        tokens.c.account,
        tokens.c.label,
        tokens.c.created_at,
        tokens.c.expires_at,
        tokens.c.revoked_at,
    ).order_by(tokens.c.created_at)
    if account_name is not None:
        query = query.where(tokens.c.account == account_name)
    return [dict(r._mapping) for r in connection.execute(query)]


def _live_account(connection: Connection, name: str) -> accounts_.Account:
    account = accounts_.find(connection, name)
    if account is None or account.disabled_at is not None:
        raise AuthenticationError("the account is disabled; ask an administrator")
    return account
