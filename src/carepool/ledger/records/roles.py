"""Who may do what. Enforced here, in the domain layer, for every caller (CLI, API, tests).

* **finance** officers post only to their own partner's lines and contributions; the host
  partner's finance officers also allocate, close periods and vire between any lines (they
  run the pooled fund);
* **board** members approve held requests (never their own) and settle the year;
* **auditors** read everything, including who posted each entry;
* **public** users read positions, the decisions register and the published journal;
* **admin** users open funds;
* **analysts** may read person-level model results (each resident's risk score); in the
  ledger they read what the public reads.
"""

from __future__ import annotations

from collections.abc import Iterable

from carepool.errors import PermissionDenied
from carepool.ledger.records.spec import User

#: Roles that may read who posted each entry and under which request id.
PRIVATE_READERS = frozenset({"auditor", "admin"})


def require_role(user: User, role: str, what: str) -> None:
    if role not in user.roles:
        raise PermissionDenied(
            f"user {user.name!r} ({', '.join(user.roles)}) may not {what}: it needs the {role} role"
        )


def require_finance_of(user: User, partners: Iterable[str | None], what: str) -> None:
    """A finance officer of one of ``partners``."""
    allowed = sorted({p for p in partners if p is not None})
    require_role(user, "finance", what)
    if user.partner not in allowed:
        raise PermissionDenied(
            f"user {user.name!r} is a finance officer of {user.partner}; only those of "
            f"{' or '.join(allowed)} may {what}"
        )


def require_private_reader(user: User, what: str) -> None:
    if not PRIVATE_READERS & set(user.roles):
        raise PermissionDenied(f"user {user.name!r} may not {what}: it needs the auditor role")
