"""The API shell: FastAPI routes over the application layer, one router per domain
(``public``, ``consultations``, ``fund``), with who-is-asking and the security headers in
``security``, errors as statuses in ``errors``, and the materialised public figures in
``data``. Routes parse, authorise (:func:`carepool.api.security.allowed`), call and return;
no figure is computed here. The portal (:mod:`carepool.web`) shares the request-level pieces
named below."""

from carepool.api.app import create_app, portal_database_url
from carepool.api.data import PublicData
from carepool.api.errors import problem
from carepool.api.fund import post as post_to_fund
from carepool.api.security import (
    SESSION_COOKIE,
    allowed,
    authorised,
    client_of,
    governance_of,
    principal_of,
    session_of,
)

__all__ = [
    "SESSION_COOKIE",
    "PublicData",
    "allowed",
    "authorised",
    "client_of",
    "create_app",
    "governance_of",
    "portal_database_url",
    "post_to_fund",
    "principal_of",
    "problem",
    "session_of",
]
