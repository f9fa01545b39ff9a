"""Every refusal as a 4xx with a clear message, never a 500: the project's errors map to
HTTP statuses here, once."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from carepool.errors import (
    AuthenticationError,
    CarepoolError,
    ConfigError,
    LedgerError,
    NotFound,
    PermissionDenied,
    RateLimited,
    RuleRefused,
    WarehouseError,
)

#: Most specific first.
STATUSES: tuple[tuple[type[CarepoolError], int], ...] = (
    (RateLimited, 429),
    (AuthenticationError, 401),
    (PermissionDenied, 403),
    (NotFound, 404),
    (RuleRefused, 409),
    (LedgerError, 409),
    (WarehouseError, 503),
    (ConfigError, 400),
    (CarepoolError, 400),
)


def status_of(exc: CarepoolError) -> int:
    return next(code for kind, code in STATUSES if isinstance(exc, kind))


def problem(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message, "status": status}, status_code=status, headers=headers)


async def carepool_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CarepoolError)
    status = status_of(exc)
    headers = {}
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after)
    if status == 401 and request.url.path.startswith("/api/"):
        headers["WWW-Authenticate"] = 'Bearer realm="carepool"'
    page = _html_page(request, status, str(exc))
    if page is not None:
        return page
    return problem(status, str(exc), headers)


def _html_page(request: Request, status: int, message: str) -> Response | None:
    """A portal page's error as a page (when the portal is installed), not JSON."""
    render = getattr(request.app.state, "html_error", None)
    if render is None or request.url.path.startswith("/api/"):
        return None
    page: Response = render(request, status, message)
    return page


async def invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body")
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    page = _html_page(request, 404 if request.method == "GET" else 400, "; ".join(parts))
    if page is not None:
        return page
    return JSONResponse(
        {"error": "; ".join(parts) or "the request is not valid", "status": 422},
        status_code=422,
    )


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    page = _html_page(request, exc.status_code, str(exc.detail))
    if page is not None:
        return page
    return problem(exc.status_code, str(exc.detail), dict(exc.headers or {}))


def install(app: FastAPI) -> None:
    app.add_exception_handler(CarepoolError, carepool_error)
    app.add_exception_handler(RequestValidationError, invalid_request)
    app.add_exception_handler(HTTPException, http_error)
