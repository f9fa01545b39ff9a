"""Attacks on the public portal and API, as an outside attacker and as a malicious signed-in
user would make them: CSRF, session fixation and replay, open redirects, XSS, privilege
escalation, request-id replay, enumeration, authentication bypass, path traversal, oversize
bodies, sign-in rate limits, personal data in comments, the audit log, leaky errors and
malformed input on every route.

Each test names its attack and the defence expected. A test that fails is a defence that
does not hold (see the report that came with this file).
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carepool.api import create_app, portal_database_url
from carepool.config import Settings
from carepool.governance import Governance, Role
from carepool.web import charts
from tests.api import conftest as api_fixtures
from tests.api.conftest import ACCOUNTS, PASSWORD, Site

#: The API tests' fixtures, found by name: a published site (an account and API token per
#: role) and a client over it.
published_site = api_fixtures.published_site
prepared_site = api_fixtures.prepared_site
site = api_fixtures.site
client = api_fixtures.client

#: The demonstration's consultation (open for sixty days from the demo's run).
CONSULTATION = "prevention-portfolio-2025-26"
VIREMENT = {
    "from_line": "acute:E08000003",
    "to_line": "community:E08000003",
    "amount_pence": 1_000_000,
    "reason": "winter pressures",
    "request_id": "attack-1",
}
PORTAL_VIREMENT = {
    "from_line": "acute:E08000003",
    "to_line": "community:E08000003",
    "amount": "10,000",
    "reason": "winter pressures",
    "request_id": "portal-attack-1",
}
#: The checkout this test runs from (no machine's path is written into the tests).
REPOSITORY = Path(__file__).resolve().parents[2]
#: What must never appear in an error a client sees.
LEAKS = (
    "Traceback",
    'File "',
    "site-packages",
    str(REPOSITORY),
    tempfile.gettempdir(),
    ".py",
    "sqlalchemy",
)


# -- helpers ---------------------------------------------------------------------------------


def bearer(site: Site, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {site.tokens[role]}"}


def name_of(role: str) -> str:
    return ACCOUNTS[role][0]


def https_client(raise_server_exceptions: bool = True) -> TestClient:
    """A client over HTTPS, so that the portal's ``Secure`` cookies come back."""
    return TestClient(
        create_app(Settings.from_env()),
        base_url="https://testserver",
        raise_server_exceptions=raise_server_exceptions,
    )


@pytest.fixture
def browser(site: Site) -> Iterator[TestClient]:
    """One visitor's browser: an HTTPS client with its own cookie jar."""
    with https_client(raise_server_exceptions=False) as opened:
        yield opened


def plant(browser: TestClient, name: str, value: str) -> None:
    """Put a cookie in the browser's jar as the site would have set it."""
    browser.cookies.clear()
    browser.cookies.set(name, value, domain="testserver.local", path="/")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]*)"', html)
    assert found is not None, "the page has no CSRF field"
    return found.group(1)


def sign_in(browser: TestClient, role: str, name: str | None = None) -> str:
    """Sign in through the portal's form; the session's CSRF token."""
    token = csrf_of(browser.get("/sign-in").text)
    response = browser.post(
        "/sign-in",
        data={"csrf": token, "name": name or name_of(role), "password": PASSWORD, "next": "/"},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert browser.cookies.get("carepool_session")
    return csrf_of(browser.get("/consultations").text)


def governance() -> Governance:
    return Governance.connect(portal_database_url(Settings.from_env()))


def add_account(name: str, roles: frozenset[Role]) -> str:
    """A further account; its API token."""
    with governance() as gov:
        gov.add_account(name, PASSWORD, roles)
        return gov.issue_token(name).secret


def audit_rows(client: TestClient, site: Site) -> list[dict[str, Any]]:
    response = client.get("/api/audit", headers=bearer(site, "auditor"))
    assert response.status_code == 200
    rows: list[dict[str, Any]] = response.json()["rows"]
    return rows


def journal_entries(client: TestClient) -> int:
    entries: int = client.get("/api/journal/checkpoint").json()["entries"]
    return entries


def pending_comment(client: TestClient, site: Site, body: str) -> int:
    """A resident's comment, left through the API and awaiting moderation; its id."""
    left = client.post(
        f"/api/consultations/{CONSULTATION}/comments",
        headers=bearer(site, "resident"),
        json={"body": body},
    )
    assert left.status_code == 202, left.text
    comment: int = left.json()["comment"]
    return comment


def held_virement(client: TestClient, site: Site, request_id: str = "held-1") -> int:
    """A finance officer's virement, held for the board; its entry."""
    proposed = client.post(
        "/api/fund/virements",
        headers=bearer(site, "finance"),
        json={**VIREMENT, "request_id": request_id},
    )
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "held"
    seq: int = proposed.json()["seq"]
    return seq


def assert_no_leak(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text, f"the response leaks {leak!r}: {text[:300]}"


Scope = dict[str, Any]


def asgi_request(
    app: FastAPI,
    method: str,
    path: str,
    chunks: list[bytes] | None = None,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> tuple[int, bytes, int]:
    """One request straight to the ASGI app, as a server hands it on: the path exactly as
    given (no client-side clean-up of ``..``), the body streamed in ``chunks`` without a
    Content-Length. The status, the body, and how many bytes of the request the app read."""
    pending = iter(chunks or [])
    read = 0
    status = 0
    body = bytearray()

    async def receive() -> dict[str, Any]:
        nonlocal read
        chunk = next(pending, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        read += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body.extend(message.get("body", b""))

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "https",
        "path": path,
        "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"testserver"), *(headers or [])],
        "client": ("203.0.113.9", 40000),
        "server": ("testserver", 443),
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    return status, bytes(body), read


# -- cookies and sessions -------------------------------------------------------------------


def test_session_and_csrf_cookies_are_httponly_secure_and_samesite_strict(
    browser: TestClient,
) -> None:
    """Attack: steal the session with script (XSS), sniff it over HTTP, or ride it from
    another site. Defence: both cookies are HttpOnly, Secure and SameSite=Strict; HTTPS
    responses carry HSTS."""
    page = browser.get("/sign-in")
    assert "strict-transport-security" in page.headers
    pre = [c for c in page.headers.get_list("set-cookie") if c.startswith("carepool_csrf=")]
    token = csrf_of(page.text)
    signed = browser.post(
        "/sign-in",
        data={"csrf": token, "name": name_of("resident"), "password": PASSWORD},
        follow_redirects=False,
    )
    session = [
        c for c in signed.headers.get_list("set-cookie") if c.startswith("carepool_session=")
    ]
    assert len(pre) == 1
    assert len(session) == 1
    for cookie in (pre[0], session[0]):
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert "httponly" in flags, cookie
        assert "secure" in flags, cookie
        assert "samesite=strict" in flags, cookie
        assert "path=/" in flags, cookie


def test_sign_in_issues_a_fresh_session_whatever_cookie_the_visitor_brings(site: Site) -> None:
    """Attack: session fixation. The attacker plants a session id in the victim's browser (a
    made-up one, or the attacker's own live session) and waits for the victim to sign in
    with it. Defence: sign-in always issues a new random secret; the planted id never gains
    the victim's identity."""
    with https_client() as attacker:
        sign_in(attacker, "analyst")
        planted = attacker.cookies["carepool_session"]
    for fixed in ("attacker-chosen-session-id", planted):
        with https_client() as victim:
            plant(victim, "carepool_session", fixed)
            token = csrf_of(victim.get("/sign-in").text)
            signed = victim.post(
                "/sign-in",
                data={"csrf": token, "name": name_of("resident"), "password": PASSWORD},
                follow_redirects=False,
            )
            assert signed.status_code == 303, signed.text
            issued = victim.cookies["carepool_session"]
            assert issued != fixed
            assert victim.get("/api/me").json()["name"] == name_of("resident")
    with https_client() as attacker:
        plant(attacker, "carepool_session", planted)
        assert attacker.get("/api/me").json()["name"] == name_of("analyst")
    with https_client() as attacker:
        plant(attacker, "carepool_session", "attacker-chosen-session-id")
        assert attacker.get("/api/me").status_code == 401


def test_a_signed_out_session_cannot_be_replayed(browser: TestClient) -> None:
    """Attack: replay a session cookie captured before its owner signed out. Defence: sign-out
    revokes the session on the server, not only in the browser."""
    token = sign_in(browser, "finance")
    stolen = browser.cookies["carepool_session"]
    out = browser.post("/sign-out", data={"csrf": token}, follow_redirects=False)
    assert out.status_code == 303
    browser.cookies.clear()
    plant(browser, "carepool_session", stolen)
    assert browser.get("/api/me").status_code == 401
    assert browser.get("/officers").status_code == 401


def test_a_disabled_account_loses_its_tokens_and_sessions(site: Site) -> None:
    """Attack: keep using an API token or a portal session after the account is disabled.
    Defence: disabling ends every session and token; the password no longer signs in."""
    with https_client() as browser:
        sign_in(browser, "finance")
        with governance() as gov:
            gov.disable_account(name_of("finance"))
        assert browser.get("/api/me").status_code == 401
        response = browser.get("/api/me", headers=bearer(site, "finance"))
        assert response.status_code == 401
        browser.cookies.clear()
        token = csrf_of(browser.get("/sign-in").text)
        again = browser.post(
            "/sign-in",
            data={"csrf": token, "name": name_of("finance"), "password": PASSWORD},
            follow_redirects=False,
        )
        assert again.status_code == 401
        assert "carepool_session" not in browser.cookies


# -- CSRF ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cookie", "field", "origin"),
    [
        (None, None, None),
        ("a" * 43, None, None),
        (None, "a" * 43, None),
        ("a" * 43, "b" * 43, None),
        (None, "", "https://evil.example"),
    ],
    ids=["nothing", "cookie-only", "field-only", "mismatch", "cross-site"],
)
def test_sign_in_without_a_matching_csrf_pair_is_refused(
    browser: TestClient, cookie: str | None, field: str | None, origin: str | None
) -> None:
    """Attack: login CSRF, an evil page signs the victim in to the attacker's account. Defence:
    the sign-in form's token must equal the SameSite=Strict pre-session cookie."""
    if cookie is not None:
        plant(browser, "carepool_csrf", cookie)
    data = {"name": name_of("resident"), "password": PASSWORD}
    if field is not None:
        data["csrf"] = field
    response = browser.post(
        "/sign-in",
        data=data,
        headers={"origin": origin} if origin else {},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert "carepool_session" not in browser.cookies


def test_another_visitors_sign_in_token_does_not_fit(site: Site) -> None:
    """Attack: the attacker fetches a sign-in form (token and cookie of their own) and plants
    the token in a form the victim posts. Defence: the token must match the victim's cookie."""
    with https_client() as attacker:
        attackers_token = csrf_of(attacker.get("/sign-in").text)
    with https_client() as victim:
        victim.get("/sign-in")  # the victim has a pre-session cookie of their own
        response = victim.post(
            "/sign-in",
            data={"csrf": attackers_token, "name": name_of("resident"), "password": PASSWORD},
            follow_redirects=False,
        )
        assert response.status_code == 403


def _forms(site: Site, client: TestClient) -> dict[str, tuple[str, str, dict[str, str]]]:
    """Each signed-in form: (role, path, fields without the token)."""
    comment = pending_comment(client, site, "A comment awaiting moderation")
    hold = held_virement(client, site)
    return {
        "sign-out": ("resident", "/sign-out", {}),
        "comment": ("resident", f"/consultations/{CONSULTATION}", {"body": "forged comment"}),
        "virement": ("finance", "/officers/virements", PORTAL_VIREMENT),
        "decision": (
            "board",
            "/officers/decisions",
            {"hold": str(hold), "decision": "approve", "reason": "forged", "request_id": "f"},
        ),
        "moderation": (
            "moderator",
            f"/moderation/{comment}",
            {"decision": "publish", "reason": "forged"},
        ),
    }


@pytest.mark.parametrize("form", ["sign-out", "comment", "virement", "decision", "moderation"])
@pytest.mark.parametrize("forgery", ["no-token", "other-session", "cross-site-origin", "empty"])
def test_every_signed_in_form_refuses_a_forged_post(
    site: Site, client: TestClient, form: str, forgery: str
) -> None:
    """Attack: CSRF on each portal form (sign-out, comment, virement, decision, moderation):
    no token, an empty one, another session's token, or a post from another origin without
    the token. Defence: 403, and nothing is done (the session lives, nothing is posted or
    moderated)."""
    role, path, fields = _forms(site, client)[form]
    before_entries = journal_entries(client)
    before_pending = len(
        client.get("/api/moderation/comments", headers=bearer(site, "moderator")).json()["rows"]
    )
    with https_client(raise_server_exceptions=False) as other:
        others_token = sign_in(other, role)
    with https_client(raise_server_exceptions=False) as victim:
        own_token = sign_in(victim, role)
        data = dict(fields)
        headers: dict[str, str] = {}
        if forgery == "other-session":
            data["csrf"] = others_token
        elif forgery == "empty":
            data["csrf"] = ""
        elif forgery == "cross-site-origin":
            headers = {"origin": "https://evil.example", "referer": "https://evil.example/x"}
        response = victim.post(path, data=data, headers=headers, follow_redirects=False)
        assert response.status_code == 403, response.text[:500]
        assert "did not come from this site" in response.text
        # nothing happened: still signed in, nothing posted, nothing moderated
        assert victim.get("/api/me").status_code == 200
        assert own_token == csrf_of(victim.get("/consultations").text)
    assert journal_entries(client) == before_entries
    after_pending = client.get("/api/moderation/comments", headers=bearer(site, "moderator"))
    assert len(after_pending.json()["rows"]) == before_pending


def test_the_api_does_not_take_a_cookie_posted_as_a_simple_cross_site_request(
    browser: TestClient, client: TestClient, site: Site
) -> None:
    """Attack: the API accepts the session cookie, without a CSRF token; an evil page posts a
    "simple" request (text/plain or a form, no CORS preflight) with the victim's cookie.
    Defence: the API reads JSON bodies only (simple requests get 422) and answers no CORS
    preflight, so a cross-origin JSON post is never sent; the cookie is SameSite=Strict."""
    sign_in(browser, "resident")
    before = client.get("/api/moderation/comments", headers=bearer(site, "moderator"))
    body = json.dumps({"body": "forged through the API"})
    for headers, content in (
        ({"content-type": "text/plain"}, body),
        ({"content-type": "application/x-www-form-urlencoded"}, "body=forged"),
        ({"content-type": "multipart/form-data; boundary=x"}, "--x--\r\n"),
    ):
        response = browser.post(
            f"/api/consultations/{CONSULTATION}/comments",
            content=content,
            headers={**headers, "origin": "https://evil.example"},
        )
        assert response.status_code == 422, response.text
    preflight = browser.options(
        f"/api/consultations/{CONSULTATION}/comments",
        headers={
            "origin": "https://evil.example",
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    after = client.get("/api/moderation/comments", headers=bearer(site, "moderator"))
    assert after.json()["rows"] == before.json()["rows"]


# -- open redirects --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "//evil.com",
        "/\\evil.com",
        "\\\\evil.com",
        "https:evil.com",
        "https://evil.com",
        "javascript:alert(1)",
        " //evil.com",
        "/\t/evil.com",
        "/\n/evil.com",
        "/\r\nSet-Cookie: carepool_session=x",
        "/%2F/evil.com",
        "/%5Cevil.com",
        "///evil.com",
        "/。/evil.com",
        "/\x00//evil.com",
    ],
)
def test_sign_in_never_redirects_off_site(browser: TestClient, target: str) -> None:
    """Attack: open redirect through sign-in's ``next`` (phishing: a real sign-in page that
    lands the victim on evil.com). Defence: ``next`` is kept only when it is a path on this
    site; the Location header is never another host, even after a browser strips tabs and
    newlines and reads a backslash as a slash; no header can be injected."""
    shown = browser.get("/sign-in", params={"next": target})
    assert shown.status_code == 200
    hidden = re.search(r'name="next" value="([^"]*)"', shown.text)
    assert hidden is not None
    token = csrf_of(shown.text)
    response = browser.post(
        "/sign-in",
        data={"csrf": token, "name": name_of("resident"), "password": PASSWORD, "next": target},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert "set-cookie: carepool_session=x" not in str(response.headers).lower()
    location = response.headers["location"]
    as_browser = re.sub(r"[\t\n\r]", "", location).replace("\\", "/")
    parts = urlsplit(as_browser)
    assert parts.scheme == "", location
    assert parts.netloc == "", location
    assert as_browser.startswith("/"), location
    assert not as_browser.startswith("//"), location
    # the form's hidden field is posted back as it is (never navigated to): a path here
    assert hidden.group(1).startswith("/")
    assert not hidden.group(1).startswith("//")


# -- XSS -------------------------------------------------------------------------------------

XSS = '"><script>alert(1)</script><img src=x onerror=alert(2)>'


def _scripts_are_inert(html: str) -> None:
    """No attacker markup in the page, and every JSON island parses and cannot end early."""
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    for island in re.findall(r'<script type="application/json"[^>]*>(.*?)</script>', html, re.S):
        assert "</" not in island
        assert "<!--" not in island
        json.loads(island)


def test_reflected_input_is_escaped(browser: TestClient) -> None:
    """Attack: reflected XSS through the search box ``q``, the map's ``colour``, sign-in's
    ``next``, a not-found path and a validation message. Defence: Jinja autoescaping."""
    for path, params in (
        ("/places", {"q": XSS[:64]}),
        ("/places", {"colour": XSS[:40]}),
        ("/places", {"q": "</script><script>alert(1)</script>"[:64]}),
        ("/sign-in", {"next": "/" + XSS}),
        ("/nowhere/" + XSS, {}),
        ("/places/" + XSS, {}),
        ("/consultations/" + XSS, {}),
    ):
        response = browser.get(path, params=params)
        assert response.status_code in (200, 404), (path, response.status_code)
        _scripts_are_inert(response.text)
        assert "text/html" in response.headers["content-type"]


def test_stored_xss_in_a_comment_is_escaped_when_published(
    browser: TestClient, client: TestClient, site: Site
) -> None:
    """Attack: stored XSS, a resident's comment carrying script (and ``</script>``) shown to
    the moderator and, once published, to everyone. Defence: autoescaping on both pages."""
    payload = XSS + "</script><script>alert(3)</script>"
    comment = pending_comment(client, site, payload)
    sign_in(browser, "moderator")
    moderation = browser.get("/moderation")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in moderation.text
    _scripts_are_inert(moderation.text)
    done = client.post(
        f"/api/moderation/comments/{comment}",
        headers=bearer(site, "moderator"),
        json={"decision": "publish"},
    )
    assert done.status_code == 200
    page = browser.get(f"/consultations/{CONSULTATION}")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    _scripts_are_inert(page.text)


def test_stored_xss_in_a_virement_reason_is_escaped(
    browser: TestClient, client: TestClient, site: Site
) -> None:
    """Attack: a finance officer puts script in a virement's (published) reason, shown on the
    board's fund-work page, the decisions register, the fund and the journal. Defence:
    autoescaping; chart JSON is escaped so it cannot close its ``<script>`` element."""
    proposed = client.post(
        "/api/fund/virements",
        headers=bearer(site, "finance"),
        json={**VIREMENT, "reason": XSS + "</script>"},
    )
    assert proposed.status_code == 201, proposed.text
    sign_in(browser, "board")
    for path in ("/officers", "/decisions", "/fund", "/journal", "/", "/places/E08000003"):
        response = browser.get(path)
        assert response.status_code == 200, path
        _scripts_are_inert(response.text)


def test_chart_json_cannot_break_out_of_its_script_element() -> None:
    """Attack: figure data carrying ``</script>`` or ``<!--`` ends the JSON island early and
    runs what follows. Defence: ``charts.dumps`` escapes ``<``, ``>`` and ``&``."""
    figure = {"data": [{"text": ["</script><script>alert(1)</script>", "<!--", "&lt;"]}]}
    text = charts.dumps(figure)
    for character in "<>&":
        assert character not in text
    assert json.loads(text) == figure


# -- privilege escalation --------------------------------------------------------------------


def test_a_resident_cannot_post_to_the_fund_or_moderate_by_api_or_portal(
    browser: TestClient, client: TestClient, site: Site
) -> None:
    """Attack: a resident posts a virement, a decision and a moderation, through the API and
    through the portal's forms (with a valid CSRF token). Defence: the policy refuses each
    (403) and nothing reaches the ledger or the comments."""
    hold = held_virement(client, site)
    comment = pending_comment(client, site, "Please fund falls prevention")
    before = journal_entries(client)
    resident = bearer(site, "resident")
    for path, body in (
        ("/api/fund/virements", {**VIREMENT, "request_id": "resident-1"}),
        ("/api/fund/decisions", {"hold": hold, "reason": "self-approved", "request_id": "r2"}),
        (f"/api/moderation/comments/{comment}", {"decision": "publish"}),
    ):
        assert client.post(path, headers=resident, json=body).status_code == 403, path
    for path in ("/api/fund/pending", "/api/moderation/comments", "/api/audit"):
        assert client.get(path, headers=resident).status_code == 403, path
    token = sign_in(browser, "resident")
    for path, fields in (
        ("/officers/virements", PORTAL_VIREMENT),
        ("/officers/decisions", {"hold": str(hold), "decision": "approve", "reason": "me"}),
        (f"/moderation/{comment}", {"decision": "publish"}),
    ):
        response = browser.post(path, data={**fields, "csrf": token}, follow_redirects=False)
        assert response.status_code == 403, path
    for path in ("/officers", "/moderation"):
        assert browser.get(path).status_code == 403, path
    assert journal_entries(client) == before
    pending = client.get("/api/moderation/comments", headers=bearer(site, "moderator"))
    assert comment in [row["id"] for row in pending.json()["rows"]]


def test_finance_cannot_approve_its_own_virement(client: TestClient, site: Site) -> None:
    """Attack: a finance officer approves the virement they proposed, by API; then an account
    holding both the finance and board roles (a misconfiguration an insider might get)
    approves its own virement. Defence: finance may not approve (403); the ledger refuses
    a board member's approval of their own request."""
    hold = held_virement(client, site)
    decision = {"hold": hold, "approve": True, "reason": "mine", "request_id": "self-1"}
    response = client.post("/api/fund/decisions", headers=bearer(site, "finance"), json=decision)
    assert response.status_code == 403
    with governance() as gov:
        gov.set_roles(name_of("finance"), frozenset({Role.FINANCE, Role.BOARD}))
    response = client.post("/api/fund/decisions", headers=bearer(site, "finance"), json=decision)
    assert response.status_code in (403, 409), response.text
    pending = client.get("/api/fund/pending", headers=bearer(site, "board")).json()["rows"]
    assert hold in [p["decision"] for p in pending]


def test_a_moderator_cannot_publish_their_own_comment(client: TestClient, site: Site) -> None:
    """Attack: an account that is both resident and moderator publishes its own comment, by
    API. Defence: the governance layer refuses moderating one's own comment."""
    token = add_account("mo.resident", frozenset({Role.RESIDENT, Role.MODERATOR}))
    headers = {"Authorization": f"Bearer {token}"}
    left = client.post(
        f"/api/consultations/{CONSULTATION}/comments", headers=headers, json={"body": "Mine"}
    )
    assert left.status_code == 202
    comment = left.json()["comment"]
    response = client.post(
        f"/api/moderation/comments/{comment}", headers=headers, json={"decision": "publish"}
    )
    assert response.status_code == 400
    assert "own comment" in response.json()["error"]
    published = client.get(f"/api/consultations/{CONSULTATION}").json()["comments"]
    assert "Mine" not in [c["body"] for c in published]


def test_one_officers_request_id_is_never_answered_with_anothers_receipt(
    client: TestClient, site: Site
) -> None:
    """Attack: replay another officer's request id (seen in the public journal, say) hoping
    for their receipt, or to block their retry. Defence: request ids are kept in each
    sender's own namespace; a second officer's post with the same id is a post of its own."""
    first = client.post(
        "/api/fund/virements", headers=bearer(site, "finance"), json=VIREMENT
    ).json()
    other = add_account("finance.E08000003", frozenset({Role.FINANCE}))
    replay = client.post(
        "/api/fund/virements", headers={"Authorization": f"Bearer {other}"}, json=VIREMENT
    )
    assert replay.status_code != 201 or replay.json()["seq"] != first["seq"]
    assert replay.json().get("seq") != first["seq"]
    # the first officer's retry is still answered with their own receipt
    again = client.post("/api/fund/virements", headers=bearer(site, "finance"), json=VIREMENT)
    assert again.status_code == 201
    assert again.json()["seq"] == first["seq"]
    # and the same id for a different request is refused, not silently answered
    changed = client.post(
        "/api/fund/virements",
        headers=bearer(site, "finance"),
        json={**VIREMENT, "amount_pence": 2_000_000},
    )
    assert changed.status_code == 409


# -- enumeration -----------------------------------------------------------------------------


def test_nobody_without_the_role_learns_whether_a_comment_or_hold_exists(
    client: TestClient, site: Site
) -> None:
    """Attack: enumerate pending comments and held decisions by id, comparing the answers for
    ids that exist and ids that do not (403 vs 404). Defence: the role is checked before
    anything is looked up; the answers are identical."""
    comment = pending_comment(client, site, "A pending comment")
    hold = held_virement(client, site)
    probes = (
        ("/api/moderation/comments/{}", comment, 999_999, {"decision": "publish"}),
        (
            "/api/fund/decisions",
            hold,
            999_999,
            {"approve": True, "reason": "x", "request_id": "probe"},
        ),
    )
    for role in ("public", "resident", "analyst", "auditor", "admin", "finance"):
        headers = {} if role == "public" else bearer(site, role)
        for path, real, fake, body in probes:
            answers = []
            for target in (real, fake):
                if "{}" in path:
                    response = client.post(path.format(target), headers=headers, json=body)
                else:
                    response = client.post(path, headers=headers, json={**body, "hold": target})
                answers.append((response.status_code, response.json()))
            assert answers[0] == answers[1], (role, path, answers)
            assert answers[0][0] in (401, 403)


def test_the_portal_does_not_reveal_comments_to_the_public_either(browser: TestClient) -> None:
    """Attack: enumerate comment ids through the portal's moderation form while signed out.
    Defence: the CSRF and role checks come before the comment is looked up."""
    token = csrf_of(browser.get("/sign-in").text)  # a valid pre-session pair
    answers = {
        browser.post(f"/moderation/{n}", data={"csrf": token, "decision": "publish"}).status_code
        for n in (1, 2, 999_999)
    }
    assert answers == {401}


# -- authentication --------------------------------------------------------------------------


def test_authorization_header_tricks_are_refused(client: TestClient, site: Site) -> None:
    """Attack: bypass authentication with variations of the Authorization header: another
    scheme, a truncated or padded token, a token with its prefix changed or its id alone,
    two tokens, a very long token, control characters. Defence: 401 for each, never taken
    for the token's owner (nor silently for the public)."""
    token = site.tokens["admin"]
    prefix, token_id, secret = token.split("_", 2)
    for header in (
        f"Basic {token}",
        f"Token {token}",
        f"Bearer{token}",
        f"Bearer {token[:-1]}",
        f"Bearer {token}x",
        f"Bearer {token} {token}",
        f"Bearer {token},{token}",
        f"Bearer CPT_{token_id}_{secret}",
        f"Bearer xpt_{token_id}_{secret}",
        f"Bearer {prefix}_{token_id}_",
        f"Bearer {prefix}_{token_id}",
        f"Bearer {prefix}__{secret}",
        f"Bearer {prefix}_{token_id}_{secret[:-2]}%00",
        f"Bearer {prefix}_' OR '1'='1_{secret}",
        f"Bearer {prefix}_%_{secret}",
        f"Bearer {prefix}_{token_id}_{secret}" + "A" * 5000,
        "Bearer " + "A" * 100_000,
        f"Bearer {token_id}",
        "Bearer",
        "Bearer  ",
        "",
    ):
        response = client.get("/api/audit", headers={"Authorization": header})
        assert response.status_code == 401, header[:80]
        assert_no_leak(response.text)
    # the scheme's case and spacing around the token are not tricks: the token still works
    lenient = client.get("/api/audit", headers={"Authorization": f"bearer  {token} "})
    assert lenient.status_code == 200


def test_a_session_cookie_is_not_an_api_token_nor_the_reverse(
    browser: TestClient, site: Site
) -> None:
    """Attack: present a session secret as a bearer token, or an API token (or its secret
    part) as the session cookie. Defence: each is looked up only where it belongs."""
    sign_in(browser, "admin")
    session = browser.cookies["carepool_session"]
    assert browser.get("/api/me", headers={"Authorization": f"Bearer {session}"}).status_code == 401
    browser.cookies.clear()
    for cookie in (site.tokens["admin"], site.tokens["admin"].split("_", 2)[2], "x" * 101):
        plant(browser, "carepool_session", cookie)
        assert browser.get("/api/me").status_code == 401
        browser.cookies.clear()


# -- path traversal --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/static/../../../../../../etc/passwd",
        "/static/govuk/../../../../../../../../etc/passwd",
        "/static/govuk/..%2f..%2f..%2f..%2fetc/passwd",
        "/assets/../../../../../../../../etc/passwd",
        "/assets/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
        "/assets/....//....//....//etc/passwd",
        "/static/govuk/../../../../../../../../proc/self/environ",
        "/static/app.mjs/../../../pyproject.toml",
        "/static/govuk//etc/passwd",
        "/api/journal/export/../../../../etc/passwd",
        "/api/journal/export/..%2f..%2fcheckpoint.key",
        # the project's own files, wherever it is checked out
        f"/static/govuk/{'../' * 12}{REPOSITORY.relative_to(REPOSITORY.anchor)}/pyproject.toml",
    ],
)
def test_static_files_and_exports_do_not_traverse(site: Site, path: str) -> None:
    """Attack: path traversal out of the static folders or the journal export, with the
    path sent raw (as a server hands it on, ``..`` not cleaned by the client). Defence:
    404, and no file from outside the folders."""
    app = create_app(Settings.from_env())
    status, body, _ = asgi_request(app, "GET", path)
    assert status in (400, 404), (path, status)
    assert b"root:" not in body
    assert b"[project]" not in body
    assert b"PRIVATE KEY" not in body
    assert b"CAREPOOL_DATA_DIR" not in body


# -- oversize bodies ---------------------------------------------------------------------------


def test_oversize_bodies_get_a_4xx_never_a_500(site: Site) -> None:
    """Attack: huge JSON, a huge form, a huge comment, deeply nested JSON, many fields, a
    file upload, a lying Content-Length. Defence: a 4xx for each, never a 500."""
    with https_client(raise_server_exceptions=False) as browser:
        token = sign_in(browser, "resident")
        resident = bearer(site, "resident")
        huge = "a" * (8 * 1024 * 1024)
        cases: list[tuple[str, str, dict[str, Any]]] = [
            (
                "POST",
                f"/api/consultations/{CONSULTATION}/comments",
                {"json": {"body": huge}, "headers": resident},
            ),
            (
                "POST",
                f"/api/consultations/{CONSULTATION}/comments",
                {
                    "content": "[" * 100_000 + "]" * 100_000,
                    "headers": {**resident, "content-type": "application/json"},
                },
            ),
            (
                "POST",
                f"/api/consultations/{CONSULTATION}/comments",
                {
                    "content": '{"body": "' + "\\ud800" * 1000 + '"}',
                    "headers": {**resident, "content-type": "application/json"},
                },
            ),
            ("POST", f"/consultations/{CONSULTATION}", {"data": {"csrf": token, "body": huge}}),
            (
                "POST",
                f"/consultations/{CONSULTATION}",
                {"data": {"csrf": token, "body": "a" * 60_000}},
            ),
            (
                "POST",
                f"/consultations/{CONSULTATION}",
                {"data": {"csrf": token, **{f"f{i}": "x" for i in range(500)}}},
            ),
            (
                "POST",
                f"/consultations/{CONSULTATION}",
                {"data": {"csrf": token}, "files": {"upload": ("x.txt", b"x" * 1000)}},
            ),
            (
                "POST",
                f"/consultations/{CONSULTATION}",
                {"content": "csrf=x", "headers": {"content-length": "-1"}},
            ),
            ("POST", "/sign-in", {"data": {"name": huge, "password": huge}}),
        ]
        for method, path, kwargs in cases:
            response = browser.request(method, path, **kwargs)
            assert 400 <= response.status_code < 500, (path, response.status_code)
            assert_no_leak(response.text)


def test_a_form_streamed_without_content_length_is_cut_off(site: Site) -> None:
    """Attack: stream a 10 MiB form with chunked transfer encoding (no Content-Length) so the
    portal's 64 KiB form limit is never consulted. Defence: the form parser stops reading
    past the limit."""
    app = create_app(Settings.from_env())
    chunks = [b"body=" + b"a" * 65_536] + [b"a" * 65_536] * 160
    status, _, read = asgi_request(
        app,
        "POST",
        f"/consultations/{CONSULTATION}",
        chunks,
        [(b"content-type", b"application/x-www-form-urlencoded")],
    )
    assert 400 <= status < 500
    assert read <= 2 * 65_536 + 16


def test_an_anonymous_api_post_is_not_read_to_the_end(site: Site) -> None:
    """Attack: an anonymous client streams a 10 MiB (or 1 GiB) JSON body to an API write
    route; the server buffers and parses all of it before it answers 401 (memory and CPU
    exhaustion, no account needed). Defence expected: a request body limit (as the portal's
    forms have), so the server stops reading well before the end."""
    app = create_app(Settings.from_env())
    chunks = [b'{"body": "'] + [b"a" * 65_536] * 160 + [b'"}']
    status, _, read = asgi_request(
        app,
        "POST",
        f"/api/consultations/{CONSULTATION}/comments",
        chunks,
        [(b"content-type", b"application/json")],
    )
    assert status in (401, 413)
    assert read <= 1024 * 1024, f"the server read {read:,} bytes of an anonymous request"


# -- sign-in rate limits -----------------------------------------------------------------------


def test_sign_in_is_rate_limited_by_name(browser: TestClient) -> None:
    """Attack: guess one account's password online. Defence: after five failures for a name,
    sign-in is refused (429) even with the right password; other spellings of the name (case,
    spaces, NUL) are not the account and never sign in; an unknown name gets the same
    answer as a wrong password."""
    statuses = []
    for guess in range(7):
        token = csrf_of(browser.get("/sign-in").text)
        response = browser.post(
            "/sign-in",
            data={"csrf": token, "name": name_of("board"), "password": f"wrong guess {guess}!"},
            follow_redirects=False,
        )
        statuses.append(response.status_code)
    assert statuses == [401] * 5 + [429] * 2
    token = csrf_of(browser.get("/sign-in").text)
    right = browser.post(
        "/sign-in",
        data={"csrf": token, "name": name_of("board"), "password": PASSWORD},
        follow_redirects=False,
    )
    assert right.status_code == 429
    assert "carepool_session" not in browser.cookies
    for variant in (name_of("board").upper(), " " + name_of("board"), name_of("board") + "\x00"):
        token = csrf_of(browser.get("/sign-in").text)
        response = browser.post(
            "/sign-in",
            data={"csrf": token, "name": variant, "password": PASSWORD},
            follow_redirects=False,
        )
        assert response.status_code in (401, 429)
        assert "carepool_session" not in browser.cookies
    # the answer for an unknown name is the same as for a wrong password
    token = csrf_of(browser.get("/sign-in").text)
    unknown = browser.post(
        "/sign-in",
        data={"csrf": token, "name": "no.such.person", "password": "wrong guess 0!"},
    )
    assert unknown.status_code == 401
    assert "the account name or password is not right" in unknown.text


# -- personal data in comments ---------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "Ring me on 0161 234 5678",
        "Ring me on 07700900123",
        "Write to ann.resident@example.com",
        "My NHS number is 943 476 5919",
        "I live at M1 1AE",
        "Ring me on (0161) 234 5678",
        "Ring me on +44 (0)7700 900123",
        "My NHS number is 943.476.5919",
    ],
)
def test_comments_with_personal_details_are_refused(
    client: TestClient, site: Site, body: str
) -> None:
    """Attack: publish someone's personal details (phone number, e-mail, NHS number,
    postcode) in a public comment, written the way people write them in the UK. Defence:
    the comment is refused at the door (400) with a request to remove them."""
    response = client.post(
        f"/api/consultations/{CONSULTATION}/comments",
        headers=bearer(site, "resident"),
        json={"body": body},
    )
    assert response.status_code == 400, f"{body!r} was accepted: {response.json()}"
    assert "personal details" in response.json()["error"]


def test_a_published_comment_does_not_name_its_author(client: TestClient, site: Site) -> None:
    """Attack: read who wrote a published comment (API, CSV-free JSON, and the page).
    Defence: published comments carry only their id, day and text."""
    comment = pending_comment(client, site, "More talking therapies")
    client.post(
        f"/api/moderation/comments/{comment}",
        headers=bearer(site, "moderator"),
        json={"decision": "publish"},
    )
    published = client.get(f"/api/consultations/{CONSULTATION}").json()["comments"]
    assert [set(c) for c in published] == [{"id", "body", "submitted_on"}]
    page = client.get(f"/consultations/{CONSULTATION}").text
    assert name_of("resident") not in page
    assert name_of("resident") not in json.dumps(published)


# -- the audit log ---------------------------------------------------------------------------


def test_refused_ledger_postings_and_sign_ins_are_audited(
    browser: TestClient, client: TestClient, site: Site
) -> None:
    """Attack: probe the ledger and passwords and leave no trace. Defence: a posting the
    ledger refuses, and a failed sign-in, are each in the audit log as refused."""
    refused = client.post(
        "/api/fund/decisions",
        headers=bearer(site, "board"),
        json={"hold": 999_999, "reason": "probe", "request_id": "probe-1"},
    )
    assert refused.status_code == 409
    token = csrf_of(browser.get("/sign-in").text)
    browser.post("/sign-in", data={"csrf": token, "name": "gm.admin", "password": "guess guess"})
    rows = audit_rows(client, site)
    assert any(
        r["action"] == "fund.approve"
        and r["outcome"] == "refused"
        and r["principal"] == "board.chair"
        for r in rows
    )
    assert any(
        r["action"] == "session.start" and r["outcome"] == "refused" and r["target"] == "gm.admin"
        for r in rows
    )
    assert all("guess guess" not in json.dumps(r) for r in rows)
    assert all(PASSWORD not in json.dumps(r) for r in rows)


def test_writes_refused_by_the_policy_are_audited(
    browser: TestClient, client: TestClient, site: Site
) -> None:
    """Attack: a signed-in insider (a resident) tries to post a virement and to moderate, by
    API and by portal, and is refused by the policy (403). Defence expected: the audit log,
    which holds every write "and what came of it", records these refused attempts as it
    records refused postings and sign-ins, so privilege escalation attempts are visible."""
    comment = pending_comment(client, site, "A comment to moderate")
    resident = bearer(site, "resident")
    client.post("/api/fund/virements", headers=resident, json={**VIREMENT, "request_id": "esc"})
    client.post(
        f"/api/moderation/comments/{comment}", headers=resident, json={"decision": "publish"}
    )
    token = sign_in(browser, "resident")
    browser.post("/officers/virements", data={**PORTAL_VIREMENT, "csrf": token})
    refusals = [
        r
        for r in audit_rows(client, site)
        if r["principal"] == name_of("resident") and r["outcome"] == "refused"
    ]
    actions = sorted(r["action"] for r in refusals)
    assert actions == [
        "refused.moderate",
        "refused.propose_virement",
        "refused.propose_virement",
    ], actions


# -- errors ------------------------------------------------------------------------------------


def test_the_portal_decision_form_with_a_unicode_digit_is_a_4xx_not_a_500(
    site: Site,
) -> None:
    """Attack: a board member (or an attacker with a board session) posts the decision form
    with ``hold=²`` (a character ``str.isdigit`` accepts but ``int`` does not). Defence
    expected: a 400 page saying the request is not valid; found: an unhandled ValueError
    (500)."""
    with https_client(raise_server_exceptions=False) as board:
        token = sign_in(board, "board")
        for hold in ("²", "①", "𝟙"):
            response = board.post(
                "/officers/decisions",
                data={"csrf": token, "hold": hold, "decision": "approve", "reason": "x"},
            )
            assert 400 <= response.status_code < 500, (hold, response.status_code)


def test_errors_leak_no_stack_trace_or_path(site: Site) -> None:
    """Attack: provoke errors (not found, bad input, refused, method not allowed, malformed
    JSON, an unpublished file) and read internals from the answer. Defence: short messages,
    no traceback, file path or SQL."""
    with https_client(raise_server_exceptions=False) as browser:
        token = sign_in(browser, "finance")
        answers = [
            browser.get("/api/places/E08099999"),
            browser.get("/api/nowhere"),
            browser.get("/nowhere"),
            browser.put("/api/places"),
            browser.delete("/sign-in"),
            browser.post(
                "/api/fund/virements",
                content=b'{"from_line": ',
                headers={"content-type": "application/json"},
            ),
            browser.post("/api/fund/virements", json={**VIREMENT, "from_line": "nope:E0"}),
            browser.post(
                "/officers/virements",
                data={**PORTAL_VIREMENT, "from_line": "x" * 300, "csrf": token},
            ),
            browser.post(
                "/officers/virements",
                data={**PORTAL_VIREMENT, "request_id": "a#b\x00", "csrf": token},
            ),
            browser.get("/api/indicators", params={"place": "' OR 1=1 --"}),
        ]
        for response in answers:
            assert response.status_code < 500, response.request.url
            assert_no_leak(response.text)


def test_host_header_does_not_steer_the_data_packages_links(client: TestClient) -> None:
    """Attack: Host header poisoning. A request with ``Host: evil.example`` gets a data package
    whose every resource link points at evil.example; a shared cache that keys on the path
    serves it to everyone, and their downloads come from the attacker. Defence expected:
    links that do not take the host from the request (relative, or a configured base URL,
    or only trusted hosts accepted)."""
    package = client.get("/api/datapackage.json", headers={"host": "evil.example"})
    assert package.status_code in (200, 400)
    if package.status_code == 200:
        for resource in package.json()["resources"]:
            assert "evil.example" not in resource["path"], resource["path"]


# -- every route, malformed ------------------------------------------------------------------

MALFORMED = (
    "",
    "x" * 5000,
    "../../etc/passwd",
    "%00",
    "-1",
    "0",
    "1e309",
    "9" * 30,
    "NaN",
    "'\"<>",
    "\u202e\ufeff",
    "\udcff",
    "²",
)
BODIES: tuple[Any, ...] = (
    None,
    [],
    "text",
    {"hold": 2**64, "amount_pence": 2**64, "body": "x", "decision": "publish"},
    {"hold": "²", "reason": "\x00", "request_id": "\x00", "approve": "yes"},
    {"body": None, "decision": None},
    {"from_line": [1], "to_line": {}, "amount_pence": 1.5, "reason": 5, "request_id": 7},
)


def test_every_openapi_route_answers_malformed_input_with_a_4xx(
    client: TestClient, site: Site
) -> None:
    """Attack: malformed path parameters, query values and bodies on every route in the
    OpenAPI document, anonymously and with a token of the route's role. Defence: a 4xx (or
    a 2xx where the input is merely unusual), never a 500, and no leak."""
    schema = client.get("/api/openapi.json").json()
    with TestClient(create_app(Settings.from_env()), raise_server_exceptions=False) as fuzzing:
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
                for role in ("public", "admin", "finance", "board", "moderator", "resident"):
                    headers = {} if role == "public" else bearer(site, role)
                    for value in MALFORMED:
                        target = re.sub(r"\{[^}]+\}", value.replace("/", "%2F"), path)
                        params = dict.fromkeys(names, value)
                        bodies = BODIES if method in ("post", "put", "patch") else (None,)
                        for body in bodies:
                            try:
                                response = fuzzing.request(
                                    method.upper(),
                                    target,
                                    params=params,
                                    headers=headers,
                                    json=body,
                                )
                            except UnicodeEncodeError:
                                continue  # the client cannot send it; neither can anyone
                            assert response.status_code < 500, (
                                method,
                                target[:80],
                                params and value[:20],
                                body,
                                response.status_code,
                            )
                            assert_no_leak(response.text)


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/places",
        "/places/E08000003",
        "/places/{}",
        "/places?colour={}&q={}",
        "/fund",
        "/decisions",
        "/journal",
        "/prevention",
        "/data",
        "/consultations",
        "/consultations/{}",
        "/sign-in?next={}",
        "/officers",
        "/moderation",
    ],
)
def test_every_portal_page_answers_malformed_input_with_a_4xx(site: Site, path: str) -> None:
    """Attack: malformed path and query values on the portal's pages, signed out and signed
    in as each officer. Defence: a page (2xx or 4xx), never a 500."""
    with https_client(raise_server_exceptions=False) as browser:
        for role in (None, "moderator", "board"):
            if role is not None:
                browser.cookies.clear()
                sign_in(browser, role)
            for value in MALFORMED:
                try:
                    response = browser.get(path.replace("{}", value.replace("/", "%2F")))
                except UnicodeEncodeError:
                    continue
                assert response.status_code < 500, (path, value[:20], response.status_code)
                assert_no_leak(response.text)
