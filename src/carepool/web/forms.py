"""Form handling shared by the portal's pages: CSRF, the form's fields, and errors shown
as GOV.UK error summaries.

Every form posted by a signed-in person carries their session's CSRF token; the sign-in form
(before there is a session) carries a random token that must match the one in a short-lived
cookie (the double-submit pattern). Cookies are ``Secure``, ``HttpOnly`` and
``SameSite=Strict``, so another site cannot post with them either.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect

from carepool.api import session_of
from carepool.errors import PermissionDenied
from carepool.governance import csrf_matches

PRE_SESSION_COOKIE = "carepool_csrf"
#: The largest form the portal reads (a comment is at most 2,000 characters).
MAX_FORM_BYTES = 64 * 1024


@dataclass(frozen=True)
class Problem:
    field: str
    message: str


def cookie_options(request: Request) -> dict[str, Any]:
    return {"httponly": True, "secure": True, "samesite": "strict", "path": "/"}


async def read_form(request: Request) -> FormData:
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        raise PermissionDenied("the form is too large")
    try:
        return await request.form(max_files=0, max_fields=20, max_part_size=MAX_FORM_BYTES)
    except ClientDisconnect:
        # the body limit has already answered 413 and cut the body off (or the client left)
        raise PermissionDenied("the form is too large") from None


def check_csrf(request: Request, form: FormData) -> None:
    """Refuse a post whose CSRF token is not this session's (or, signed out, the cookie's)."""
    presented = form.get("csrf")
    token = presented if isinstance(presented, str) else None
    session = session_of(request)
    if session is not None:
        if csrf_matches(session, token):
            return
    else:
        cookie = request.cookies.get(PRE_SESSION_COOKIE)
        if cookie and token and secrets.compare_digest(cookie, token):
            return
    raise PermissionDenied(
        "the form has expired or did not come from this site; reload it and try again"
    )


def text(form: FormData, name: str, limit: int = 2000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""
