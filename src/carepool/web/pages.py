"""The portal's pages: server-rendered HTML over the same calls as the API.

Public pages read the materialised figures (:class:`carepool.web.views.Views`); the forms
(sign-in, comments, virements, decisions, moderation) call the governance and ledger
application layer through the same functions as the API's routes, after the CSRF check.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.params import Path as PathParam
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData

from carepool.api import (
    SESSION_COOKIE,
    allowed,
    authorised,
    client_of,
    governance_of,
    post_to_fund,
    principal_of,
    session_of,
)
from carepool.errors import CarepoolError, ConfigError, RateLimited
from carepool.governance import ANONYMOUS, Action, Principal, Role
from carepool.ledger import Approve, Virement
from carepool.web.forms import (
    PRE_SESSION_COOKIE,
    Problem,
    check_csrf,
    cookie_options,
    read_form,
    text,
)
from carepool.web.views import Views, humanise, pence

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
SITE_NAME = "carepool"
NAVIGATION = (
    ("/", "Home"),
    ("/places", "Places"),
    ("/fund", "The fund"),
    ("/decisions", "Decisions"),
    ("/consultations", "Consultations"),
    ("/prevention", "Prevention"),
    ("/journal", "Journal"),
)
#: Notices shown after a form succeeds, by the key in the redirect (never text from a request).
NOTICES = {
    "comment": "Thank you: your comment will be published once a moderator has read it.",
    "virement": "The virement was recorded.",
    "decision": "Your decision was recorded and published in the decisions register.",
    "published": "The comment was published.",
    "rejected": "The comment was rejected; it will not be published.",
    "signed-in": "You are signed in.",
}

router = APIRouter(include_in_schema=False)
PlaceCode = Annotated[str, PathParam(pattern=r"^[EWSN]\d{8}$")]
ConsultationId = Annotated[str, PathParam(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")]


def views_of(request: Request) -> Views:
    views: Views = request.app.state.views
    return views


def render(
    request: Request, template: str, context: dict[str, Any], status: int = 200
) -> HTMLResponse:
    try:
        principal = principal_of(request) if "authorization" not in request.headers else ANONYMOUS
    except CarepoolError:
        principal = ANONYMOUS
    session = session_of(request)
    officer_links: list[tuple[str, str]] = []
    if principal.roles & {Role.FINANCE, Role.BOARD}:
        officer_links.append(("/officers", "Fund work"))
    if Role.MODERATOR in principal.roles:
        officer_links.append(("/moderation", "Moderation"))
    done = request.query_params.get("done")
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "site_name": SITE_NAME,
            "navigation": list(NAVIGATION),
            "officer_links": officer_links,
            "section": context.get("section", request.url.path),
            "principal": principal,
            "csrf": session.csrf if session is not None else getattr(request.state, "pre_csrf", ""),
            "done_notice": NOTICES.get(done) if isinstance(done, str) else None,
            "charts": False,
            **context,
        },
        status_code=status,
    )
    pre = getattr(request.state, "pre_csrf", None)
    if pre:
        response.set_cookie(PRE_SESSION_COOKIE, pre, max_age=3600, **cookie_options(request))
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {
        401: "Sign in",
        403: "You cannot do this",
        404: "Page not found",
        429: "Too many attempts",
    }
    return render(
        request,
        "error.html",
        {"title": titles.get(status, "There is a problem"), "message": message, "status": status},
        status=status,
    )


Views_ = Annotated[Views, Depends(views_of)]


@router.get("/", response_class=HTMLResponse)
def home(request: Request, views: Views_) -> HTMLResponse:
    return render(request, "home.html", {**views.home(), "section": "/"})


@router.get("/places", response_class=HTMLResponse)
def places(
    request: Request,
    views: Views_,
    colour: Annotated[str, Query(max_length=40)] = "need_index",
    q: Annotated[str, Query(max_length=64)] = "",
) -> HTMLResponse:
    return render(request, "places.html", views.places(colour, q))


@router.get("/places/{code}", response_class=HTMLResponse)
def place(request: Request, code: PlaceCode, views: Views_) -> HTMLResponse:
    return render(request, "place.html", views.place(code))


@router.get("/fund", response_class=HTMLResponse)
def fund(request: Request, views: Views_) -> HTMLResponse:
    return render(request, "fund.html", views.fund())


@router.get("/decisions", response_class=HTMLResponse)
def decisions(request: Request, views: Views_) -> HTMLResponse:
    return render(request, "decisions.html", views.decisions())


@router.get("/journal", response_class=HTMLResponse)
def journal(request: Request, views: Views_) -> HTMLResponse:
    return render(request, "journal.html", views.journal())


@router.get("/prevention", response_class=HTMLResponse)
def prevention(request: Request, views: Views_) -> HTMLResponse:
    return render(request, "prevention.html", views.prevention())


@router.get("/data", response_class=HTMLResponse)
def data(request: Request) -> HTMLResponse:
    from carepool.publication import COLLECTIONS

    served = request.app.state.data.served
    collections = [c for c in COLLECTIONS if c.name in served]
    return render(request, "data.html", {"title": "Open data", "collections": collections})


# -- consultations ---------------------------------------------------------------------------


@router.get("/consultations", response_class=HTMLResponse)
def consultations(request: Request) -> HTMLResponse:
    governance = governance_of(request)
    counts = governance.comment_counts()
    return render(
        request,
        "consultations.html",
        {
            "title": "Consultations",
            "section": "/consultations",
            "consultations": [(c, counts.get(c.id, 0)) for c in governance.consultations()],
        },
    )


def _consultation_page(
    request: Request,
    consultation_id: str,
    problems: list[Problem],
    body: str = "",
    status: int = 200,
) -> HTMLResponse:
    governance = governance_of(request)
    found = governance.consultation(consultation_id)
    return render(
        request,
        "consultation.html",
        {
            "title": found.title,
            "section": "/consultations",
            "consultation": found,
            "comments": governance.published_comments(consultation_id).to_dict("records"),
            "problems": problems,
            "body": body,
        },
        status=status,
    )


@router.get("/consultations/{consultation_id}", response_class=HTMLResponse)
def consultation(request: Request, consultation_id: ConsultationId) -> HTMLResponse:
    return _consultation_page(request, consultation_id, [])


@router.post("/consultations/{consultation_id}", response_class=HTMLResponse)
async def comment(request: Request, consultation_id: ConsultationId) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_comment, request, form, consultation_id)


def _comment(request: Request, form: FormData, consultation_id: ConsultationId) -> Response:
    check_csrf(request, form)
    principal = authorised(request, principal_of(request), Action.COMMENT)
    body = text(form, "body", 4000)
    try:
        governance_of(request).leave_comment(
            principal, consultation_id, body, client=client_of(request)
        )
    except (ConfigError, RateLimited) as exc:
        if isinstance(exc, ConfigError) and "no consultation" in str(exc):
            raise
        return _consultation_page(request, consultation_id, [Problem("body", str(exc))], body, 400)
    return RedirectResponse(f"/consultations/{consultation_id}?done=comment", status_code=303)


# -- signing in and out ---------------------------------------------------------------------


def _safe_next(target: str) -> str:
    return (
        target
        if target.startswith("/") and not target.startswith("//") and "\\" not in target
        else "/"
    )


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request, next: Annotated[str, Query(max_length=200)] = "/"
) -> HTMLResponse:
    request.state.pre_csrf = secrets.token_urlsafe(32)
    return render(
        request, "sign_in.html", {"title": "Sign in", "next": _safe_next(next), "problems": []}
    )


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_sign_in, request, form)


def _sign_in(request: Request, form: FormData) -> Response:
    check_csrf(request, form)
    name, password = text(form, "name", 64), text(form, "password", 300)
    target = _safe_next(text(form, "next", 200) or "/")
    try:
        session = governance_of(request).sign_in(name, password, client=client_of(request))
    except CarepoolError as exc:
        request.state.pre_csrf = secrets.token_urlsafe(32)
        status = 429 if isinstance(exc, RateLimited) else 401
        return render(
            request,
            "sign_in.html",
            {
                "title": "Sign in",
                "next": target,
                "name": name,
                "problems": [Problem("name", str(exc))],
            },
            status=status,
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session.secret, max_age=12 * 3600, **cookie_options(request)
    )
    response.delete_cookie(PRE_SESSION_COOKIE, path="/")
    return response


@router.get("/register", response_class=HTMLResponse)
def register_page(
    request: Request, next: Annotated[str, Query(max_length=200)] = "/consultations"
) -> HTMLResponse:
    request.state.pre_csrf = secrets.token_urlsafe(32)
    context = {"title": "Make an account", "next": _safe_next(next), "problems": []}
    return render(request, "register.html", context)


@router.post("/register", response_class=HTMLResponse)
async def register(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_register, request, form)


def _register(request: Request, form: FormData) -> Response:
    check_csrf(request, form)
    name, password = text(form, "name", 64), text(form, "password", 300)
    target = _safe_next(text(form, "next", 200) or "/consultations")
    try:
        session = governance_of(request).register_resident(
            name, password, client=client_of(request)
        )
    except (ConfigError, RateLimited) as exc:
        request.state.pre_csrf = secrets.token_urlsafe(32)
        context = {
            "title": "Make an account",
            "next": target,
            "name": name,
            "problems": [Problem("name", str(exc))],
        }
        return render(
            request, "register.html", context, status=429 if isinstance(exc, RateLimited) else 400
        )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session.secret, max_age=12 * 3600, **cookie_options(request)
    )
    response.delete_cookie(PRE_SESSION_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_sign_out, request, form)


def _sign_out(request: Request, form: FormData) -> Response:
    check_csrf(request, form)
    session = session_of(request)
    if session is not None:
        governance_of(request).sign_out(session, client=client_of(request))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# -- officers' work -------------------------------------------------------------------------


def _officers_page(
    request: Request,
    principal: Principal,
    problems: list[Problem],
    values: dict[str, str],
    status: int = 200,
) -> HTMLResponse:
    access = request.app.state.ledger_access
    data = request.app.state.data
    names = {p["place"]: p["name"] for p in data.rows("places")}
    lines = [
        (
            line["line"],
            f"{names.get(line['place'], line['place'])}: {humanise(line['service'])} "
            f"({line['partner_name']}), {pence(line['available_pence'])} available",
        )
        for line in sorted(
            data.rows("fund_lines"), key=lambda r: (names.get(r["place"], r["place"]), r["service"])
        )
    ]
    return render(
        request,
        "officers.html",
        {
            "title": "Fund work",
            "section": "/officers",
            "pending": access.pending(),
            "lines": lines,
            "can_propose": principal.may(Action.PROPOSE_VIREMENT),
            "can_approve": principal.may(Action.APPROVE),
            "problems": problems,
            "values": values,
            "fund": access.fund(),
        },
        status=status,
    )


@router.get("/officers", response_class=HTMLResponse)
def officers(
    request: Request, principal: Annotated[Principal, Depends(allowed(Action.READ_FUND_WORK))]
) -> HTMLResponse:
    return _officers_page(request, principal, [], {})


@router.post("/officers/virements", response_class=HTMLResponse)
async def propose_virement(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_propose_virement, request, form)


def _propose_virement(request: Request, form: FormData) -> Response:
    check_csrf(request, form)
    principal = authorised(request, principal_of(request), Action.PROPOSE_VIREMENT)
    values = {
        k: text(form, k, 2000) for k in ("from_line", "to_line", "amount", "reason", "request_id")
    }
    try:
        amount = _pence(values["amount"])
        operation = Virement(
            from_line=values["from_line"],
            to_line=values["to_line"],
            amount_pence=amount,
            reason=values["reason"],
        )
        post_to_fund(
            request.app.state.ledger_access,
            governance_of(request),
            principal,
            operation,
            values["request_id"] or secrets.token_hex(8),
            client_of(request),
        )
    except CarepoolError as exc:
        if exc.exit_code == 6:
            raise
        return _officers_page(request, principal, [Problem("from_line", str(exc))], values, 400)
    return RedirectResponse("/officers?done=virement", status_code=303)


@router.post("/officers/decisions", response_class=HTMLResponse)
async def decide(request: Request) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_decide, request, form)


def _decide(request: Request, form: FormData) -> Response:
    check_csrf(request, form)
    principal = authorised(request, principal_of(request), Action.APPROVE)
    values = {k: text(form, k, 2000) for k in ("hold", "decision", "reason", "request_id")}
    try:
        if not re.fullmatch(r"[0-9]{1,16}", values["hold"]):
            raise ConfigError("choose a request to decide")
        operation = Approve(
            hold=int(values["hold"]),
            approve=values["decision"] != "refuse",
            reason=values["reason"],
        )
        post_to_fund(
            request.app.state.ledger_access,
            governance_of(request),
            principal,
            operation,
            values["request_id"] or secrets.token_hex(8),
            client_of(request),
        )
    except CarepoolError as exc:
        if exc.exit_code == 6:
            raise
        return _officers_page(
            request, principal, [Problem(f"reason-{values['hold']}", str(exc))], values, 400
        )
    return RedirectResponse("/decisions?done=decision", status_code=303)


def _pence(text_: str) -> int:
    cleaned = text_.replace("£", "").replace(",", "").strip()
    try:
        whole, _, part = cleaned.partition(".")
        if not whole.isdigit() or (part and (not part.isdigit() or len(part) > 2)):
            raise ValueError
        return int(whole) * 100 + int(part.ljust(2, "0") or 0)
    except ValueError:
        raise ConfigError(
            f"amount {text_[:30]!r}: expected pounds, such as 250000 or 250,000.50"
        ) from None


# -- moderation -----------------------------------------------------------------------------


@router.get("/moderation", response_class=HTMLResponse)
def moderation(
    request: Request,
    principal: Annotated[Principal, Depends(allowed(Action.READ_PENDING_COMMENTS))],
) -> HTMLResponse:
    pending = governance_of(request).pending_comments(principal).to_dict("records")
    return render(
        request,
        "moderation.html",
        {"title": "Moderation", "section": "/moderation", "pending": pending},
    )


@router.post("/moderation/{comment_id}")
async def moderate(
    request: Request, comment_id: Annotated[int, PathParam(ge=1, le=2**53)]
) -> Response:
    form = await read_form(request)
    return await run_in_threadpool(_moderate, request, form, comment_id)


def _moderate(request: Request, form: FormData, comment_id: int) -> Response:
    check_csrf(request, form)
    principal = authorised(request, principal_of(request), Action.MODERATE)
    governance_of(request).moderate(
        principal,
        comment_id,
        text(form, "decision", 10),
        text(form, "reason", 500),
        client=client_of(request),
    )
    decision = text(form, "decision", 10)
    done = "published" if decision == "publish" else "rejected"
    return RedirectResponse(f"/moderation?done={done}", status_code=303)
