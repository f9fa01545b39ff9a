"""A fund as the ledger knows it: its specification, with lookups the postings need.

The specification is written once when the fund is opened and never changes, so a
:class:`FundContext` can be cached for the life of a :class:`~carepool.ledger.Ledger`. Who
may use the fund can change (staff come and go): the specification's users, amended by the
fund's ``user`` journal entries in order, are its users now (:func:`users_after`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from carepool.errors import LedgerError, PermissionDenied
from carepool.ledger.records.spec import FundSpec, Line, Scope, User

YEAR_END = "year-end"


@dataclass
class FundContext:
    spec: FundSpec
    _scopes: dict[Scope, list[Line]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.spec.fund.id

    @property
    def host(self) -> str:
        return self.spec.fund.host

    @cached_property
    def lines(self) -> dict[str, Line]:
        return {line.id: line for line in self.spec.lines}

    @cached_property
    def partner_kinds(self) -> dict[str, str]:
        return {p.id: p.kind for p in self.spec.partners}

    @cached_property
    def users(self) -> dict[str, User]:
        return {u.name: u for u in self.spec.users}

    @cached_property
    def periods(self) -> tuple[str, ...]:
        return self.spec.periods()

    def line(self, line_id: str, field_name: str = "line") -> Line:
        try:
            return self.lines[line_id]
        except KeyError:
            raise LedgerError(
                f"{field_name}: {line_id!r} is not a line of fund {self.id}"
            ) from None

    def partner(self, partner_id: str, field_name: str = "partner") -> str:
        if partner_id not in self.partner_kinds:
            raise LedgerError(
                f"{field_name}: {partner_id!r} is not a partner of fund {self.id} "
                f"(partners: {', '.join(sorted(self.partner_kinds))})"
            )
        return partner_id

    def user(self, name: str) -> User:
        """A user named in the specification (changes since: :func:`users_after`)."""
        return find_user(self.users, name, self.id)

    def lines_in(self, scope: Scope) -> list[Line]:
        if scope not in self._scopes:
            kinds = self.partner_kinds
            self._scopes[scope] = [
                line for line in self.spec.lines if scope.matches(line, kinds[line.partner])
            ]
        return self._scopes[scope]


def users_after(
    ctx: FundContext,
    changes: Iterable[Mapping[str, Any]],
    users: Mapping[str, User] | None = None,
) -> dict[str, User]:
    """The fund's users: its specification's (or ``users``), then each ``user`` entry's
    change in order (``roles`` empty: the user no longer has access)."""
    users = dict(ctx.users if users is None else users)
    for change in changes:
        name = str(change["name"])
        if change["roles"]:
            users[name] = User(name=name, partner=change.get("partner"), roles=change["roles"])
        else:
            users.pop(name, None)
    return users


def find_user(users: Mapping[str, User], name: str, fund_id: str) -> User:
    try:
        return users[name]
    except KeyError:
        raise PermissionDenied(f"{name!r} is not a user of fund {fund_id}") from None


@dataclass(frozen=True)
class Standing:
    """What the fund's ``user`` and ``close`` entries have made of it so far: its users and
    its closed periods (``year-end`` once settled)."""

    users: dict[str, User]
    closed: list[str]
    #: the closed periods' entries, by period: their payloads (a month's totals)
    closes: dict[str, Any]


def standing(ctx: FundContext, rows: Iterable[Mapping[str, Any]]) -> Standing:
    """The fund's users and closed periods from its ``user`` and ``close`` entries (rows
    with ``kind``, ``actor``, ``period`` and ``payload``, in journal order).

    An entry counts only if its maker had the right to make it at that point — a change of
    users by an admin (not of their own access); a close by a finance officer of the host
    partner, or the year-end close by the board member who settled — and it reads as such
    an entry. The ledger never writes any other; one inserted round the ledger changes
    nothing here, and ``verify`` names it.
    """
    users = dict(ctx.users)
    closed: list[str] = []
    closes: dict[str, Any] = {}
    for row in rows:
        maker = users.get(str(row["actor"]))
        payload = _payload(row.get("payload"))  # a close's is not always read (its totals)
        if maker is None:
            continue
        if row["kind"] == "user" and "admin" in maker.roles and payload is not None:
            users = _changed(ctx, users, payload, maker.name)
        elif row["kind"] == "close" and _may_close(ctx, maker, str(row["period"])):
            period = str(row["period"])
            if period not in closed and (period in ctx.periods or period == YEAR_END):
                closed.append(period)
                closes[period] = payload
    return Standing(users, closed, closes)


def _payload(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            return None
    return value if isinstance(value, dict) else None


def _changed(
    ctx: FundContext, users: dict[str, User], change: Mapping[str, Any], maker: str
) -> dict[str, User]:
    name = change.get("name")
    if not isinstance(name, str) or name == maker:  # an admin never changes their own access
        return users
    try:
        return users_after(ctx, [change], users)
    except (ValueError, TypeError, KeyError):  # not a change the ledger would have written
        return users


def _may_close(ctx: FundContext, maker: User, period: str) -> bool:
    if period == YEAR_END:
        return "board" in maker.roles
    return "finance" in maker.roles and maker.partner == ctx.host
