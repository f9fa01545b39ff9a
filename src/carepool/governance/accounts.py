"""Accounts: names, passwords (Argon2id), roles, and sign-in with its rate limit.

A password is stored only as its Argon2id hash (``argon2-cffi``'s defaults: 64 MiB, three
passes, the memory-hard parameters RFC 9106 recommends for constrained memory). Sign-in
answers the same way, and takes as long, whether the name is unknown or the password wrong,
and counts failures by name and by client address: too many in the window and sign-in is
refused until the window has passed, even with the right password.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection

from carepool.errors import AuthenticationError, ConfigError, RateLimited
from carepool.governance.clock import Clock, read_stamp, stamp
from carepool.governance.roles import Principal, Role
from carepool.governance.store.schema import accounts, attempts

#: An account name: written as the ledger's user names are (an officer's account is their
#: name in the fund), and unique whatever its case, so one person is one name.
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9._@-]{1,63}")
MIN_PASSWORD = 12
#: Longer passwords are refused before hashing: nobody sends a megabyte to burn our CPU.
MAX_PASSWORD = 256
#: Failed sign-ins allowed in the window, per account name and per client address.
NAME_FAILURES = 5
CLIENT_FAILURES = 20
WINDOW = timedelta(minutes=15)

HASHER = PasswordHasher()
#: Verified against when the name is unknown, so that answer takes as long as a wrong password.
_DUMMY_HASH = HASHER.hash("carepool: no such account")


@dataclass(frozen=True)
class Account:
    name: str
    display_name: str
    roles: frozenset[Role]
    partner: str | None
    created_at: str
    disabled_at: str | None

    def principal(self, via: str) -> Principal:
        return Principal(name=self.name, roles=self.roles, partner=self.partner, via=via)


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise ConfigError(
            f"account name {name[:70]!r}: expected 2-64 characters, letters, digits, '.', '_', "
            "'@' or '-', starting with a letter"
        )
    return name


def check_password(password: str) -> str:
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ConfigError(f"a password must be {MIN_PASSWORD} to {MAX_PASSWORD} characters long")
    return password


def _account(row: sa.Row[tuple[object, ...]]) -> Account:
    m = row._mapping
    return Account(
        name=m["name"],
        display_name=m["display_name"],
        roles=frozenset(Role(r) for r in str(m["roles"]).split(",") if r),
        partner=m["partner"],
        created_at=m["created_at"],
        disabled_at=m["disabled_at"],
    )


def find(connection: Connection, name: str) -> Account | None:
    row = connection.execute(sa.select(accounts).where(accounts.c.name == name)).first()
    return _account(row) if row is not None else None


def all_accounts(connection: Connection) -> list[Account]:
    rows = connection.execute(sa.select(accounts).order_by(accounts.c.name)).all()
    return [_account(r) for r in rows]


def add(
    connection: Connection,
    name: str,
    password: str,
    roles: frozenset[Role],
    *,
    display_name: str,
    partner: str | None,
    clock: Clock,
) -> Account:
    check_name(name)
    check_password(password)
    if not roles:
        raise ConfigError("give the account at least one role")
    taken = connection.execute(
        sa.select(accounts.c.name).where(sa.func.lower(accounts.c.name) == name.lower())
    ).first()
    if taken is not None:
        raise ConfigError(f"an account named {taken[0]!r} exists already")
    connection.execute(
        accounts.insert().values(
            name=name,
            display_name=(display_name or name)[:120],
            password_hash=HASHER.hash(password),
            roles=",".join(sorted(roles)),
            partner=partner,
            created_at=stamp(clock()),
            disabled_at=None,
        )
    )
    account = find(connection, name)
    assert account is not None
    return account


def set_roles(connection: Connection, name: str, roles: frozenset[Role]) -> Account:
    if not roles:
        raise ConfigError("give the account at least one role")
    _require(connection, name)
    connection.execute(
        accounts.update().where(accounts.c.name == name).values(roles=",".join(sorted(roles)))
    )
    return _require(connection, name)


def set_password(connection: Connection, name: str, password: str) -> None:
    _require(connection, name)
    check_password(password)
    connection.execute(
        accounts.update().where(accounts.c.name == name).values(password_hash=HASHER.hash(password))
    )


def disable(connection: Connection, name: str, clock: Clock) -> Account:
    _require(connection, name)
    connection.execute(
        accounts.update()
        .where(accounts.c.name == name, accounts.c.disabled_at.is_(None))
        .values(disabled_at=stamp(clock()))
    )
    return _require(connection, name)


def _require(connection: Connection, name: str) -> Account:
    account = find(connection, name)
    if account is None:
        raise ConfigError(f"no account named {name!r}")
    return account


def authenticate(
    connection: Connection, name: str, password: str, *, client: str, clock: Clock
) -> Account:
    """The account whose name and password these are, or :class:`AuthenticationError`; every
    attempt is recorded, and too many failures refuse sign-in for the window."""
    now = clock()
    _check_rate(connection, name[:64], client[:64], now)
    account = find(connection, name) if NAME_PATTERN.fullmatch(name) else None
    ok = False
    if len(password) <= MAX_PASSWORD:
        try:
            ok = HASHER.verify(_hash_of(connection, name) if account else _DUMMY_HASH, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
    ok = ok and account is not None and account.disabled_at is None
    connection.execute(
        attempts.insert().values(name=name[:64], client=client[:64], at=stamp(now), ok=ok)
    )
    if not ok or account is None:
        raise AuthenticationError("the account name or password is not right")
    if HASHER.check_needs_rehash(_hash_of(connection, name)):  # parameters raised since
        set_password(connection, name, password)
    return account


def _hash_of(connection: Connection, name: str) -> str:
    return str(
        connection.execute(
            sa.select(accounts.c.password_hash).where(accounts.c.name == name)
        ).scalar_one()
    )


def _check_rate(connection: Connection, name: str, client: str, now: datetime) -> None:
    since = stamp(now - WINDOW)
    for column, value, limit in (
        (attempts.c.name, name, NAME_FAILURES),
        (attempts.c.client, client, CLIENT_FAILURES),
    ):
        failed = (
            connection.execute(
                sa.select(attempts.c.at)
                .where(column == value, attempts.c.at > since, attempts.c.ok.is_(False))
                .order_by(attempts.c.at)
            )
            .scalars()
            .all()
        )
        if len(failed) >= limit:
            oldest = read_stamp(failed[-limit])
            wait = math.ceil((oldest + WINDOW - now).total_seconds())
            raise RateLimited(
                f"too many failed sign-ins; try again in {max(wait, 1)} seconds",
                retry_after=max(wait, 1),
            )
