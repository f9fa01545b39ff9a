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

from carepool.errors import AuthenticationError, CarepoolError
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


#: The largest request body read (a comment is at most 2,000 characters; a virement's reason
#: as long): more is refused (413) as soon as it is announced or has arrived.
MAX_BODY_BYTES = 64 * 1024


class BodyLimit:
    """Pure ASGI middleware: refuse a body larger than :data:`MAX_BODY_BYTES` by its
    ``Content-Length``, or stop reading one streamed without it once it passes the limit."""

    def __init__(self, app: ASGIApp, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send)
            return
        seen = 0
        started = answered = False

        async def limited_receive() -> Message:
            # past the limit: answer 413 at once and tell the application the client left,
            # so it stops reading; whatever it answers then is dropped
            nonlocal seen, answered
            if answered:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    if not started:
                        await _too_large(send)
                    answered = True
                    return {"type": "http.disconnect"}
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if answered:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, tracking_send)


async def _too_large(send: Send) -> None:
    body = b'{"error":"the request body is too large","status":413}'
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


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


#: Actions that write: a refusal of one is written to the audit log, as a refused posting is.
WRITES = frozenset(
    {
        Action.COMMENT,
        Action.MODERATE,
        Action.OPEN_CONSULTATION,
        Action.PROPOSE_VIREMENT,
        Action.APPROVE,
    }
)


def authorised(request: Request, principal: Principal, action: Action) -> Principal:
    """``principal``, if the policy allows it ``action``; otherwise the refusal (401 or
    403), recorded in the audit log when the action writes."""
    try:
        authorise(principal, action)
    except CarepoolError as exc:
        if action in WRITES:
            governance_of(request).record(
                principal,
                f"refused.{action.value}",
                request.url.path[:200],
                client=client_of(request),
                outcome="refused",
                detail={"reason": type(exc).__name__},
            )
        raise
    return principal


def allowed(action: Action) -> Callable[..., Principal]:
    """A dependency: the request's principal, authorised for ``action``."""

    def dependency(
        request: Request,
        principal: Principal = Depends(principal_of),  # noqa: B008
    ) -> Principal:
        return authorised(request, principal, action)

    dependency.__name__ = f"allowed_{action.value}"
    return dependency
