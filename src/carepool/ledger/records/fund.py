"""A fund as the ledger knows it: its specification, with lookups the postings need.

The specification is written once when the fund is opened and never changes, so a
:class:`FundContext` can be cached for the life of a :class:`~carepool.ledger.Ledger`. Who
may use the fund can change (staff come and go): the specification's users, amended by the
fund's ``user`` journal entries in order, are its users now (:func:`users_after`).
"""

from __future__ import annotations

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
