"""Who is asking, and the headers every response carries.

A request's principal comes from an API token (``Authorization: Bearer cpt_...``) or the
portal's session cookie, never from anything else the client says; anonymous callers are
the public. :func:`allowed` is the one way a route states what it needs: it authorises
against the policy table in :mod:`carepool.governance.roles`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import Depends, Request

from carepool.errors import AuthenticationError
from carepool.governance import ANONYMOUS, Action, Governance, Principal, Session, authorise

SESSION_COOKIE = "carepool_session"

#: Sent with every response: no inline script, no framing, no sniffing, no referrer leak.
#: Inline styles are allowed (not scripts): Plotly styles the charts it draws by inserting
#: style rules, and a style cannot run code.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """Pure ASGI middleware adding :data:`SECURITY_HEADERS` (and HSTS behind HTTPS)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        https = scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if https:
                    headers.append((b"strict-transport-security", b"max-age=31536000"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def governance_of(request: Request) -> Governance:
    governance: Governance = request.app.state.governance
    return governance


def session_of(request: Request) -> Session | None:
    """The live portal session of this request's cookie, if any (cached on the request)."""
    if "carepool_session" in request.state._state:
        found: Session | None = request.state.carepool_session
        return found
    secret = request.cookies.get(SESSION_COOKIE)
    session = None
    if secret and len(secret) <= 100:
        try:
            session = governance_of(request).resume(secret)
        except AuthenticationError:
            session = None
    request.state.carepool_session = session
    return session


def principal_of(request: Request) -> Principal:
    """A bearer token wins; a bad token is refused outright (not treated as anonymous)."""
    header = request.headers.get("authorization")
    if header is not None:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthenticationError("send the API token as 'Authorization: Bearer <token>'")
        return governance_of(request).token_principal(token.strip())
    session = session_of(request)
    return session.principal if session is not None else ANONYMOUS


def allowed(action: Action) -> Callable[..., Principal]:
    """A dependency: the request's principal, authorised for ``action``."""

    def dependency(principal: Principal = Depends(principal_of)) -> Principal:  # noqa: B008
        authorise(principal, action)
        return principal

    dependency.__name__ = f"allowed_{action.value}"
    return dependency
