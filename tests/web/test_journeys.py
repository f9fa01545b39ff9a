"""The portal's main journeys in real headless Chromium, each page checked with axe against
WCAG 2.2 AA: a resident finds their neighbourhood, sees its allocation and why, reads a
decision and leaves a comment; a finance officer posts a virement; a board member approves
it; the journal verifies against the signed checkpoint; a moderator publishes the comment."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe

from carepool.ledger import check_published, check_signature, read_checkpoint, read_public_key
from tests.api.conftest import ACCOUNTS, PASSWORD

WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
AXE = Axe()


def accessible(page: Any) -> None:
    """No WCAG 2.2 AA violation that axe can find on the page as it is now."""
    result = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_22_AA}})
    assert result.violations_count == 0, result.generate_report()


def sign_in(page: Any, portal: str, role: str) -> None:
    page.goto(f"{portal}/sign-in")
    accessible(page)
    page.get_by_label("Account name").fill(ACCOUNTS[role][0])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state()
    assert f"Signed in as {ACCOUNTS[role][0]}" in page.locator(".govuk-phase-banner").inner_text()


def test_a_resident_finds_their_neighbourhood_and_sees_why(page: Any, portal: str) -> None:
    page.goto(portal)
    accessible(page)
    page.get_by_role("link", name="Places", exact=True).first.click()
    page.wait_for_selector(".carepool-chart--drawn")  # the map drew
    accessible(page)
    page.get_by_label("Find your neighbourhood").fill("Trafford 001")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Trafford 001").click()
    assert page.url.endswith("/places/E08000009#n-" + page.url.split("#n-")[1])
    page.wait_for_selector(".carepool-chart--drawn")
    accessible(page)
    assert page.get_by_role("heading", name="Why Trafford got what it got").is_visible()
    steps = page.get_by_role("table", name="Each step of the allocation")
    assert "Equal share per head" in steps.inner_text()
    assert page.locator(f"#n-{page.url.split('#n-')[1]}").is_visible()


def test_pages_work_without_javascript(browser: Any, portal: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{portal}/places?q=manchester")
    assert page.get_by_role("link", name="Manchester 001").is_visible()
    page.goto(f"{portal}/places/E08000003")
    assert "Each step of the allocation" in page.content()
    context.close()


def test_a_resident_reads_a_decision_makes_an_account_and_comments(page: Any, portal: str) -> None:
    page.goto(f"{portal}/decisions")
    accessible(page)
    assert page.get_by_role("cell", name="approved").first.is_visible()
    page.goto(f"{portal}/consultations")
    accessible(page)
    page.locator("h2 a").first.click()
    consultation = page.url
    page.get_by_role("link", name="make an account").click()
    accessible(page)
    page.get_by_label("Account name").fill("a.neighbour")
    page.get_by_label("Password").fill("three random words here")
    page.get_by_role("button", name="Make account").click()
    assert page.url == consultation  # back where they were, signed in
    assert "Signed in as a.neighbour" in page.locator(".govuk-phase-banner").inner_text()
    accessible(page)
    page.get_by_label("Your comment").fill("Please put falls prevention in every borough.")
    page.get_by_role("button", name="Send comment").click()
    assert "once a moderator has read it" in page.content()
    accessible(page)
    page.get_by_label("Your comment").fill("Ring me on 0161 234 5678")
    page.get_by_role("button", name="Send comment").click()
    assert "remove personal details" in page.content()
    accessible(page)  # the error summary and message are accessible too


def test_the_officers_vire_and_the_board_approves_and_the_journal_verifies(
    page: Any, portal: str, browser: Any, tmp_path: Path
) -> None:
    sign_in(page, portal, "finance")
    page.get_by_role("link", name="Fund work").click()
    accessible(page)
    page.get_by_label("From line").select_option("acute:E08000003")
    page.get_by_label("To line").select_option("community:E08000003")
    page.get_by_label("Amount, in pounds").fill("250,000")
    page.get_by_label("Reason (published)").fill("Winter: home care to get people out of hospital")
    page.get_by_role("button", name="Record virement").click()
    assert "The virement was recorded" in page.content()
    accessible(page)
    assert "Winter" not in page.content() or "Held for the board" in page.content()

    board = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    sign_in(board, portal, "board")
    board.get_by_role("link", name="Fund work").click()
    accessible(board)
    card = board.locator(".govuk-summary-card").filter(has_text="£250,000.00")
    card.get_by_label("Reason for your decision (published)").fill("Agreed: the winter plan")
    card.get_by_role("button", name="Approve").click()
    assert "Your decision was recorded" in board.content()
    row = board.get_by_role("row").filter(has_text="Agreed: the winter plan")
    assert "approved" in row.inner_text()
    assert "board.chair" in row.inner_text()
    accessible(board)

    board.goto(f"{portal}/journal")
    accessible(board)
    entries = int(board.locator("#checkpoint-entries").inner_text())
    for name, path in (
        ("journal.jsonl", "/api/journal/export"),
        ("checkpoint.json", "/api/journal/checkpoint"),
        ("checkpoint.pub", "/api/journal/public-key"),
    ):
        response = board.request.get(portal + path)
        (tmp_path / name).write_bytes(response.body())
    checkpoint = read_checkpoint(tmp_path / "checkpoint.json")
    check_signature(checkpoint, read_public_key(tmp_path / "checkpoint.pub"))
    assert checkpoint.entries == entries
    assert check_published(tmp_path / "journal.jsonl", checkpoint).chain.ok
    assert (
        json.loads((tmp_path / "checkpoint.json").read_text())["head"]
        == board.locator("#checkpoint-head").inner_text()
    )


def test_a_moderator_publishes_a_comment(page: Any, portal: str, browser: Any) -> None:
    sign_in(page, portal, "resident")
    page.goto(f"{portal}/consultations")
    page.locator("h2 a").first.click()
    consultation = page.url
    page.get_by_label("Your comment").fill("More talking therapies, please.")
    page.get_by_role("button", name="Send comment").click()

    moderator = browser.new_context().new_page()
    sign_in(moderator, portal, "moderator")
    moderator.get_by_role("link", name="Moderation").click()
    accessible(moderator)
    card = moderator.locator(".govuk-summary-card").filter(has_text="More talking therapies")
    card.get_by_role("button", name="Publish").click()
    assert "The comment was published" in moderator.content()
    page.goto(consultation)
    assert "More talking therapies, please." in page.content()
    assert ACCOUNTS["resident"][0] not in page.locator("main").inner_text()


def test_forms_without_the_csrf_token_are_refused(page: Any, portal: str) -> None:
    sign_in(page, portal, "finance")
    response = page.request.post(
        f"{portal}/officers/virements",
        form={
            "from_line": "acute:E08000003",
            "to_line": "community:E08000003",
            "amount": "1",
            "reason": "x",
        },
    )
    assert response.status == 403


def test_every_public_page_is_accessible(page: Any, portal: str) -> None:
    for path in (
        "/",
        "/fund",
        "/prevention",
        "/journal",
        "/data",
        "/places/E08000003",
        "/no-such-page",
    ):
        page.goto(portal + path)
        for holder in page.locator("[data-chart]").all():  # axe reads the charts as drawn
            holder.locator("svg").first.wait_for()
        accessible(page)
