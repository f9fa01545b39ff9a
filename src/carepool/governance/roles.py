"""Who may do what on the portal and the API: one table, consulted by every route.

A principal is the signed-in person (from a session cookie or an API token) or the anonymous
public. Each action names the roles allowed it; :func:`authorise` is the one decision, so a
route never decides for itself. The ledger checks its own roles again on every posting (a
finance officer posts only to their partner's lines, a board member approves only what they
did not propose), and the database checks the ledger's principal again on PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from carepool.errors import AuthenticationError, ConfigError, PermissionDenied


class Role(StrEnum):
    PUBLIC = "public"
    RESIDENT = "resident"
    ANALYST = "analyst"
    FINANCE = "finance"
    BOARD = "board"
    MODERATOR = "moderator"
    AUDITOR = "auditor"
    ADMIN = "admin"


#: Roles an account may hold (everyone, signed in or not, is also ``public``).
ACCOUNT_ROLES = tuple(r for r in Role if r is not Role.PUBLIC)


class Action(StrEnum):
    READ_PUBLIC = "read_public"
    COMMENT = "comment"
    READ_PENDING_COMMENTS = "read_pending_comments"
    MODERATE = "moderate"
    OPEN_CONSULTATION = "open_consultation"
    READ_FUND_WORK = "read_fund_work"
    PROPOSE_VIREMENT = "propose_virement"
    APPROVE = "approve"
    READ_AUDIT_LOG = "read_audit_log"
    READ_OWN_ACCOUNT = "read_own_account"


_SIGNED_IN = frozenset(ACCOUNT_ROLES)

#: Least privilege: each action, the roles that may take it.
POLICY: dict[Action, frozenset[Role]] = {
    Action.READ_PUBLIC: frozenset(Role),
    Action.READ_OWN_ACCOUNT: _SIGNED_IN,
    Action.COMMENT: frozenset({Role.RESIDENT}),
    Action.READ_PENDING_COMMENTS: frozenset({Role.MODERATOR}),
    Action.MODERATE: frozenset({Role.MODERATOR}),
    Action.OPEN_CONSULTATION: frozenset({Role.BOARD, Role.ADMIN}),
    Action.READ_FUND_WORK: frozenset({Role.FINANCE, Role.BOARD, Role.AUDITOR}),
    Action.PROPOSE_VIREMENT: frozenset({Role.FINANCE}),
    Action.APPROVE: frozenset({Role.BOARD}),
    Action.READ_AUDIT_LOG: frozenset({Role.AUDITOR, Role.ADMIN}),
}


@dataclass(frozen=True)
class Principal:
    """Who is asking: a signed-in account's name and roles, or the anonymous public."""

    name: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    partner: str | None = None
    #: how they proved it: ``session``, ``token`` or ``anonymous``
    via: str = "anonymous"

    @property
    def signed_in(self) -> bool:
        return self.via != "anonymous"

    def may(self, action: Action) -> bool:
        allowed = POLICY[action]
        return Role.PUBLIC in allowed or bool(self.roles & allowed)


ANONYMOUS = Principal(name="public")


def authorise(principal: Principal, action: Action) -> None:
    """Allow the action or raise: an anonymous caller must sign in (401); a signed-in one
    without the role is refused (403), in words that do not say whether what they asked for
    exists."""
    if principal.may(action):
        return
    if not principal.signed_in:
        raise AuthenticationError("sign in to do this")
    raise PermissionDenied("your account's roles do not allow this")


def parse_roles(text: str, *, source: str = "roles") -> frozenset[Role]:
    """Comma-separated role names, each one an account may hold."""
    names = [r.strip().lower() for r in text.split(",") if r.strip()]
    if not names:
        raise ConfigError(f"{source}: give at least one role")
    known = {r.value for r in ACCOUNT_ROLES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(
            f"{source}: unknown role {unknown[0]!r}; expected some of {', '.join(sorted(known))}"
        )
    return frozenset(Role(n) for n in names)
