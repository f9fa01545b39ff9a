"""Every route, for every role: the status each gets (a table, role × route), and what the
public routes return."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carepool.governance import Principal, Role
from tests.api.conftest import Site

ROLES = ("public", "resident", "analyst", "finance", "board", "moderator", "auditor", "admin")
EVERYONE = dict.fromkeys(ROLES, 200)


def only(allowed: dict[str, int], otherwise: int = 403) -> dict[str, int]:
    """``allowed`` roles get their status, the anonymous public 401, the rest 403."""
    return {role: allowed.get(role, 401 if role == "public" else otherwise) for role in ROLES}


VIREMENT = {
    "from_line": "acute:E08000003",
    "to_line": "community:E08000003",
    "amount_pence": 1_000_000,
    "reason": "winter pressures",
    "request_id": "table-1",
}
DECISION = {"hold": 999_999, "approve": True, "reason": "agreed", "request_id": "table-2"}

#: (method, path, body) → status per role.
TABLE: list[tuple[str, str, dict[str, Any] | None, dict[str, int]]] = [
    ("GET", "/api/health", None, EVERYONE),
    ("GET", "/api/places", None, EVERYONE),
    ("GET", "/api/places/E08000003", None, EVERYONE),
    ("GET", "/api/neighbourhoods?place=E08000009", None, EVERYONE),
    ("GET", "/api/allocations", None, EVERYONE),
    ("GET", "/api/allocations/E08000009", None, EVERYONE),
    ("GET", "/api/allocation_steps?place=E08000003", None, EVERYONE),
    ("GET", "/api/indicators?place=E08000003", None, EVERYONE),
    ("GET", "/api/gaps", None, EVERYONE),
    ("GET", "/api/place_gaps?place=E08000003", None, EVERYONE),
    ("GET", "/api/interventions", None, EVERYONE),
    ("GET", "/api/intervention_partners", None, EVERYONE),
    ("GET", "/api/portfolio", None, EVERYONE),
    ("GET", "/api/portfolio_partners", None, EVERYONE),
    ("GET", "/api/fund", None, EVERYONE),
    ("GET", "/api/fund_lines?service=acute", None, EVERYONE),
    ("GET", "/api/fund_partners", None, EVERYONE),
    ("GET", "/api/fund_position?by=service", None, EVERYONE),
    ("GET", "/api/decisions", None, EVERYONE),
    ("GET", "/api/journal", None, EVERYONE),
    ("GET", "/api/journal/export", None, EVERYONE),
    ("GET", "/api/journal/checkpoint", None, EVERYONE),
    ("GET", "/api/journal/public-key", None, EVERYONE),
    ("GET", "/api/datapackage.json", None, EVERYONE),
    ("GET", "/api/data/places.csv", None, EVERYONE),
    ("GET", "/api/consultations", None, EVERYONE),
    ("GET", "/api/openapi.json", None, EVERYONE),
    ("GET", "/api/me", None, only(dict.fromkeys(ROLES[1:], 200))),
    ("GET", "/api/audit", None, only({"auditor": 200, "admin": 200})),
    ("GET", "/api/fund/pending", None, only({"finance": 200, "board": 200, "auditor": 200})),
    ("POST", "/api/fund/virements", VIREMENT, only({"finance": 201})),
    # a board member reaches the ledger, which has no such held request
    ("POST", "/api/fund/decisions", DECISION, only({"board": 409})),
    ("GET", "/api/moderation/comments", None, only({"moderator": 200})),
    ("POST", "/api/moderation/comments/12345", {"decision": "publish"}, only({"moderator": 404})),
    # nobody learns whether a consultation exists before the role check
    ("POST", "/api/consultations/no-such/comments", {"body": "hello"}, only({"resident": 404})),
]


def call(
    client: TestClient, site: Site, role: str, method: str, path: str, body: dict[str, Any] | None
) -> Any:
    headers = {} if role == "public" else {"Authorization": f"Bearer {site.tokens[role]}"}
    return client.request(method, path, headers=headers, json=body)


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"), TABLE, ids=[f"{m} {p}" for m, p, _, _ in TABLE]
)
def test_each_role_gets_what_the_policy_says(
    client: TestClient,
    site: Site,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: dict[str, int],
) -> None:
    got = {role: call(client, site, role, method, path, body).status_code for role in ROLES}
    assert got == expected


def test_every_route_is_in_the_table(client: TestClient) -> None:
    """A new route must be given its row."""
    schema = client.get("/api/openapi.json").json()
    routes = {(m.upper(), p) for p, ops in schema["paths"].items() for m in ops}
    tabled = {(m, p.split("?")[0]) for m, p, _, _ in TABLE}
    templates = {
        ("GET", "/api/places/{code}"): ("GET", "/api/places/E08000003"),
        ("GET", "/api/allocations/{code}"): ("GET", "/api/allocations/E08000009"),
        ("POST", "/api/consultations/{consultation_id}/comments"): (
            "POST",
            "/api/consultations/no-such/comments",
        ),
        ("GET", "/api/consultations/{consultation_id}"): None,
        ("GET", "/api/data/{name}.csv"): ("GET", "/api/data/places.csv"),
        ("POST", "/api/moderation/comments/{comment_id}"): (
            "POST",
            "/api/moderation/comments/12345",
        ),
    }
    missing = [
        r
        for r in routes
        if r not in tabled and templates.get(r, r) not in tabled and r not in templates
    ]
    assert missing == []


def test_a_bad_token_is_refused_not_taken_for_the_public(client: TestClient) -> None:
    for header in ("Bearer cpt_nope_nope", "Basic dXNlcjpwYXNz", "Bearer "):
        response = client.get("/api/places", headers={"Authorization": header})
        assert response.status_code == 401
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for path in ("/api/places", "/api/places/E09999999", "/api/nowhere"):
        headers = client.get(path).headers
        directives = dict(
            d.strip().split(" ", 1) for d in headers["content-security-policy"].split(";")
        )
        assert directives["script-src"] == "'self'"  # no inline script, no eval
        assert directives["frame-ancestors"] == "'none'"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/api/places/E08099999", 404, "no place E08099999"),
        ("/api/places/Manchester", 422, "pattern"),
        ("/api/allocations/E08099999", 404, "no place"),
        ("/api/indicators?place=" + "x" * 100, 422, "at most 64"),
        ("/api/indicators?place=<script>", 422, "pattern"),
        ("/api/places?format=xml", 422, "json"),
        ("/api/consultations/NOT_AN_ID", 422, "pattern"),
        ("/api/consultations/no-such", 404, "no consultation"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    client: TestClient, path: str, status: int, words: str
) -> None:
    response = client.get(path)
    assert response.status_code == status
    assert words in response.json()["error"]


def test_malformed_bodies_are_422_never_500(client: TestClient, site: Site) -> None:
    headers = {"Authorization": f"Bearer {site.tokens['finance']}"}
    for body in (
        {**VIREMENT, "amount_pence": -5},
        {**VIREMENT, "amount_pence": "lots"},
        {**VIREMENT, "extra": 1},
        {k: v for k, v in VIREMENT.items() if k != "reason"},
        {**VIREMENT, "request_id": "has spaces"},
    ):
        response = client.post("/api/fund/virements", headers=headers, json=body)
        assert response.status_code == 422, body
    response = client.post(
        "/api/fund/virements", headers={**headers, "content-type": "application/json"}, content=b"{"
    )
    assert response.status_code == 422


def test_public_collections_come_as_csv_and_in_a_data_package(client: TestClient) -> None:
    package = client.get("/api/datapackage.json").json()
    assert package["licenses"][0]["name"] == "OGL-UK-3.0"
    names = {r["name"] for r in package["resources"]}
    assert {"places", "allocations", "indicators", "fund_lines", "decisions", "journal"} <= names
    for resource in package["resources"]:
        csv = client.get(f"/api/{resource['path']}")  # relative to the package
        assert csv.status_code == 200
        assert csv.headers["content-type"].startswith("text/csv")
        header = csv.text.splitlines()[0].split(",")
        assert header == [f["name"] for f in resource["schema"]["fields"]]


def test_the_funds_position_by_place_service_and_partner_adds_up_to_its_lines(
    client: TestClient,
) -> None:
    lines = client.get("/api/fund_lines").json()["rows"]
    budget = sum(line["budget_pence"] for line in lines)
    actual = sum(line["actual_pence"] for line in lines)
    for by in ("place", "service", "partner"):
        rows = client.get(f"/api/fund_position?by={by}").json()["rows"]
        assert {r[by] for r in rows} == {line[by] for line in lines}
        assert sum(r["budget_pence"] for r in rows) == budget
        assert sum(r["actual_pence"] for r in rows) == actual
    assert client.get("/api/fund_position?by=colour").status_code == 422


def test_allocations_add_up_to_the_pool_and_explain_themselves(client: TestClient) -> None:
    body = client.get("/api/allocations").json()
    total = body["allocation"]["total"]
    assert sum(r["allocation_pounds"] for r in body["rows"]) == total
    one = client.get("/api/allocations/E08000003").json()
    assert one["steps"][-1]["running_total_pounds"] == one["target_pounds"]


def test_published_indicators_hide_small_counts(client: TestClient) -> None:
    rows = client.get("/api/indicators").json()["rows"]
    shown = [r["numerator"] for r in rows if r["numerator"] is not None]
    assert shown
    assert all(not 1 <= n <= 7 for n in shown)
    assert any(r["suppressed"] for r in rows)


def test_the_published_journal_verifies_against_the_checkpoint(
    client: TestClient, tmp_path: Any
) -> None:
    from carepool.ledger import check_published, check_signature, read_checkpoint, read_public_key

    (tmp_path / "journal.jsonl").write_bytes(client.get("/api/journal/export").content)
    (tmp_path / "checkpoint.json").write_text(
        json.dumps(client.get("/api/journal/checkpoint").json())
    )
    (tmp_path / "checkpoint.pub").write_bytes(client.get("/api/journal/public-key").content)
    checkpoint = read_checkpoint(tmp_path / "checkpoint.json")
    check_signature(checkpoint, read_public_key(tmp_path / "checkpoint.pub"))
    check = check_published(tmp_path / "journal.jsonl", checkpoint)
    assert check.chain.ok
    assert checkpoint.entries == len(client.get("/api/journal").json()["rows"])


def test_a_resident_comments_and_a_moderator_publishes(client: TestClient, site: Site) -> None:
    from carepool.api import portal_database_url
    from carepool.config import Settings
    from carepool.governance import Governance

    with Governance.connect(portal_database_url(Settings.from_env())) as governance:
        from datetime import date

        governance.open_consultation(
            Principal("gm.admin", frozenset({Role.ADMIN}), via="token"),
            consultation_id="prevention",
            title="Prevention portfolio",
            summary="s",
            proposal="p",
            opens_on=date(2020, 1, 1),
            closes_on=date(2099, 1, 1),
        )
    resident = {"Authorization": f"Bearer {site.tokens['resident']}"}
    moderator = {"Authorization": f"Bearer {site.tokens['moderator']}"}
    left = client.post(
        "/api/consultations/prevention/comments", headers=resident, json={"body": "Yes please"}
    )
    assert left.status_code == 202
    assert client.get("/api/consultations/prevention").json()["comments"] == []
    pending = client.get("/api/moderation/comments", headers=moderator).json()["rows"]
    assert [p["body"] for p in pending] == ["Yes please"]
    done = client.post(
        f"/api/moderation/comments/{pending[0]['id']}",
        headers=moderator,
        json={"decision": "publish"},
    )
    assert done.status_code == 200
    comments = client.get("/api/consultations/prevention").json()["comments"]
    assert [c["body"] for c in comments] == ["Yes please"]
    assert "ann.resident" not in json.dumps(comments)


def test_a_virement_is_proposed_approved_and_published_with_a_new_checkpoint(
    client: TestClient, site: Site
) -> None:
    finance = {"Authorization": f"Bearer {site.tokens['finance']}"}
    board = {"Authorization": f"Bearer {site.tokens['board']}"}
    before = client.get("/api/journal/checkpoint").json()["entries"]
    proposed = client.post("/api/fund/virements", headers=finance, json=VIREMENT)
    assert proposed.status_code == 201, proposed.text
    receipt = proposed.json()
    assert receipt["status"] == "held"  # moving money between services needs the board
    pending = client.get("/api/fund/pending", headers=board).json()["rows"]
    assert [p["decision"] for p in pending] == [receipt["seq"]]
    again = client.post("/api/fund/virements", headers=finance, json=VIREMENT)
    assert again.json()["seq"] == receipt["seq"]  # a retry is answered, not posted twice
    decided = client.post(
        "/api/fund/decisions",
        headers=board,
        json={"hold": receipt["seq"], "approve": True, "reason": "winter plan", "request_id": "d1"},
    )
    assert decided.status_code == 201, decided.text
    decisions = client.get("/api/decisions").json()["rows"]
    mine = [d for d in decisions if d["reasons"] and "winter plan" in d["reasons"]]
    assert mine
    assert mine[0]["approvers"] == "board.chair"
    assert mine[0]["status"] == "approved"
    after = client.get("/api/journal/checkpoint").json()["entries"]
    assert after >= before + 2  # the hold, the decision (and the virement it releases)
    assert after == len(client.get("/api/journal").json()["rows"])
    audit = client.get("/api/audit", headers={"Authorization": f"Bearer {site.tokens['auditor']}"})
    actions = [r["action"] for r in audit.json()["rows"]]
    assert "fund.virement" in actions
    assert "fund.approve" in actions


def test_the_ledger_checks_the_role_again(client: TestClient, site: Site) -> None:
    """A council's finance officer cannot move the NHS's money: the ledger refuses it (403)
    although the portal lets finance officers post."""
    from carepool.api import portal_database_url
    from carepool.config import Settings
    from carepool.governance import Governance

    with Governance.connect(portal_database_url(Settings.from_env())) as governance:
        governance.add_account(
            "finance.E08000003", "council officer pass", frozenset({Role.FINANCE})
        )
        token = governance.issue_token("finance.E08000003").secret
    response = client.post(
        "/api/fund/virements", headers={"Authorization": f"Bearer {token}"}, json=VIREMENT
    )
    assert response.status_code == 403, response.text
    assert "only those of QOP" in response.json()["error"]
