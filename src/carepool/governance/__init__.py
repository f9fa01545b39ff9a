"""Governance: the portal's people and permissions, consultations and the audit log.

``roles`` (the one table of who may do what, :func:`authorise`), ``accounts`` (Argon2id
passwords, sign-in with its rate limit), ``sessions`` (portal sessions, API tokens),
``consultations`` (proposals, moderated comments), ``audit`` (the append-only log of every
write) and ``service`` (:class:`Governance`, the application layer every shell calls). Its
tables live in the portal's own database (``store``).
"""

from carepool.governance.accounts import MAX_PASSWORD, MIN_PASSWORD, Account, check_name
from carepool.governance.consultations import COMMENTS_PER_HOUR, Consultation
from carepool.governance.roles import (
    ACCOUNT_ROLES,
    ANONYMOUS,
    POLICY,
    Action,
    Principal,
    Role,
    authorise,
    parse_roles,
)
from carepool.governance.service import COMMAND_LINE, Governance
from carepool.governance.sessions import IDLE, IssuedToken, Session, csrf_matches
from carepool.governance.store.database import migrate as migrate_portal
from carepool.governance.store.database import open_engine as open_portal_engine
from carepool.governance.store.database import revisions as portal_revisions
from carepool.governance.store.schema import COMMENT_CHARS

__all__ = [
    "ACCOUNT_ROLES",
    "ANONYMOUS",
    "COMMAND_LINE",
    "COMMENTS_PER_HOUR",
    "COMMENT_CHARS",
    "IDLE",
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "POLICY",
    "Account",
    "Action",
    "Consultation",
    "Governance",
    "IssuedToken",
    "Principal",
    "Role",
    "Session",
    "authorise",
    "check_name",
    "csrf_matches",
    "migrate_portal",
    "open_portal_engine",
    "parse_roles",
    "portal_revisions",
]
