"""Accounts, sign-in, sessions, tokens, consultations and the audit log, on SQLite and
PostgreSQL-free: the portal's own database in a temporary folder, with a clock we move."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from carepool.errors import (
    AuthenticationError,
    ConfigError,
    NotFound,
    PermissionDenied,
    RateLimited,
)
from carepool.governance import (
    ANONYMOUS,
    COMMENTS_PER_HOUR,
    IDLE,
    Action,
    Governance,
    Principal,
    Role,
    authorise,
    parse_roles,
)
from carepool.ledger.store.database import database_url as driver_url
from tests.ledger.conftest import POSTGRES_URL

PASSWORD = "a long enough passphrase"
BOARD = Principal("board.chair", frozenset({Role.BOARD}), via="token")


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(params=["sqlite", "postgresql"])
def gov(request: pytest.FixtureRequest, tmp_path: Path, clock: Clock) -> Iterator[Governance]:
    """The portal's database on SQLite and on the test PostgreSQL server (a schema of its
    own, dropped afterwards)."""
    if request.param == "sqlite":
        with Governance.connect(f"sqlite:///{tmp_path / 'portal.sqlite'}", clock=clock) as g:
            yield g
        return
    schema = f"portal_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(driver_url(POSTGRES_URL))
    try:
        with admin.begin() as c:
            c.exec_driver_sql(f"CREATE SCHEMA {schema}")
    except sa.exc.OperationalError:
        pytest.fail(f"the governance tests need PostgreSQL at {POSTGRES_URL}")
    try:
        url = f"{POSTGRES_URL}?options=-csearch_path%3D{schema}"
        with Governance.connect(url, clock=clock) as g:
            yield g
    finally:
        with admin.begin() as c:
            c.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()


def test_a_password_is_stored_only_as_its_argon2id_hash(gov: Governance) -> None:
    gov.add_account("ann", PASSWORD, frozenset({Role.RESIDENT}))
    with gov.engine.connect() as c:
        stored = c.exec_driver_sql("SELECT password_hash FROM accounts").scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_sign_in_gives_a_session_and_a_wrong_password_does_not(gov: Governance) -> None:
    gov.add_account("ann", PASSWORD, frozenset({Role.RESIDENT}))
    session = gov.sign_in("ann", PASSWORD, client="10.0.0.1")
    assert session.principal.name == "ann"
    assert session.principal.roles == {Role.RESIDENT}
    assert gov.resume(session.secret).principal.name == "ann"
    with pytest.raises(AuthenticationError, match="name or password is not right"):
        gov.sign_in("ann", "not the passphrase", client="10.0.0.1")
    with pytest.raises(AuthenticationError, match="name or password is not right"):
        gov.sign_in("nobody", PASSWORD, client="10.0.0.1")


def test_too_many_failures_lock_the_name_even_with_the_right_password(
    gov: Governance, clock: Clock
) -> None:
    gov.add_account("ann", PASSWORD, frozenset({Role.RESIDENT}))
    for _ in range(5):
        with pytest.raises(AuthenticationError):
            gov.sign_in("ann", "guess guess guess", client="10.0.0.9")
    with pytest.raises(RateLimited) as refused:
        gov.sign_in("ann", PASSWORD, client="10.0.0.2")
    assert 0 < refused.value.retry_after <= 900
    clock.now += timedelta(minutes=16)
    assert gov.sign_in("ann", PASSWORD, client="10.0.0.2").principal.name == "ann"


def test_one_client_guessing_many_names_is_limited_too(gov: Governance) -> None:
    for i in range(20):
        with pytest.raises(AuthenticationError):
            gov.sign_in(f"name{i}", "guess guess guess", client="10.0.0.7")
    gov.add_account("zed", PASSWORD, frozenset({Role.RESIDENT}))
    with pytest.raises(RateLimited):
        gov.sign_in("zed", PASSWORD, client="10.0.0.7")


def test_sessions_end_when_idle_when_old_and_when_signed_out(gov: Governance, clock: Clock) -> None:
    gov.add_account("ann", PASSWORD, frozenset({Role.RESIDENT}))
    idle = gov.sign_in("ann", PASSWORD, client="c")
    clock.now += IDLE
    with pytest.raises(AuthenticationError, match="session has ended"):
        gov.resume(idle.secret)
    kept = gov.sign_in("ann", PASSWORD, client="c")
    for _ in range(24):  # used every 29 minutes: alive until its absolute life of 12 hours
        clock.now += timedelta(minutes=29)
        gov.resume(kept.secret)
    clock.now += timedelta(minutes=29)
    with pytest.raises(AuthenticationError):
        gov.resume(kept.secret)
    ended = gov.sign_in("ann", PASSWORD, client="c")
    gov.sign_out(ended, client="c")
    with pytest.raises(AuthenticationError):
        gov.resume(ended.secret)


def test_tokens_expire_can_be_revoked_and_end_with_their_account(
    gov: Governance, clock: Clock
) -> None:
    gov.add_account("fin", PASSWORD, frozenset({Role.FINANCE}))
    token = gov.issue_token("fin", label="reporting", days=1)
    assert gov.token_principal(token.secret).roles == {Role.FINANCE}
    with pytest.raises(AuthenticationError):
        gov.token_principal(token.secret[:-1] + ("A" if token.secret[-1] != "A" else "B"))
    clock.now += timedelta(days=1)
    with pytest.raises(AuthenticationError, match="expired or been revoked"):
        gov.token_principal(token.secret)
    second = gov.issue_token("fin")
    gov.revoke_token(second.id)
    with pytest.raises(AuthenticationError):
        gov.token_principal(second.secret)
    third = gov.issue_token("fin")
    session = gov.sign_in("fin", PASSWORD, client="c")
    gov.disable_account("fin")
    with pytest.raises(AuthenticationError):
        gov.token_principal(third.secret)
    with pytest.raises(AuthenticationError):
        gov.resume(session.secret)
    with pytest.raises(AuthenticationError):
        gov.sign_in("fin", PASSWORD, client="c")


def test_secrets_are_not_stored(gov: Governance) -> None:
    gov.add_account("fin", PASSWORD, frozenset({Role.FINANCE}))
    token = gov.issue_token("fin")
    session = gov.sign_in("fin", PASSWORD, client="c")
    with gov.engine.connect() as c:
        dump = "\n".join(
            str(row)
            for t in ("tokens", "sessions", "audit_log")
            for row in c.exec_driver_sql(f"SELECT * FROM {t}")
        )
    assert token.secret.split("_", 2)[2] not in dump
    assert session.secret not in dump
    assert PASSWORD not in dump


def test_names_and_passwords_have_stated_limits(gov: Governance) -> None:
    with pytest.raises(ConfigError, match="account name"):
        gov.add_account("Robert'); DROP TABLE accounts;--", PASSWORD, frozenset({Role.RESIDENT}))
    with pytest.raises(ConfigError, match="12 to 256"):
        gov.add_account("ann", "short", frozenset({Role.RESIDENT}))
    with pytest.raises(ConfigError, match="12 to 256"):
        gov.add_account("ann", "x" * 257, frozenset({Role.RESIDENT}))
    gov.add_account("ann", PASSWORD, frozenset({Role.RESIDENT}))
    with pytest.raises(ConfigError, match="exists already"):
        gov.add_account("ann", PASSWORD, frozenset({Role.ADMIN}))
    with pytest.raises(AuthenticationError):  # a megabyte is refused before hashing
        gov.sign_in("ann", "x" * 1_000_000, client="c")


def test_the_policy_gives_each_role_least_privilege() -> None:
    resident = Principal("r", frozenset({Role.RESIDENT}), via="session")
    authorise(ANONYMOUS, Action.READ_PUBLIC)
    with pytest.raises(AuthenticationError):
        authorise(ANONYMOUS, Action.COMMENT)
    authorise(resident, Action.COMMENT)
    for action in (Action.MODERATE, Action.APPROVE, Action.PROPOSE_VIREMENT, Action.READ_AUDIT_LOG):
        with pytest.raises(PermissionDenied):
            authorise(resident, action)
    with pytest.raises(ConfigError, match="unknown role 'superuser'"):
        parse_roles("resident,superuser")
    with pytest.raises(ConfigError):
        parse_roles("public")  # everybody is public; no account holds it


def _open(gov: Governance, clock: Clock, cid: str = "prevention-2027") -> None:
    gov.open_consultation(
        BOARD,
        consultation_id=cid,
        title="Invest in prevention",
        summary="A portfolio of prevention",
        proposal="The board proposes ...",
        opens_on=clock.now.date(),
        closes_on=clock.now.date() + timedelta(days=30),
    )


def test_a_comment_is_published_only_after_moderation_and_without_its_author(
    gov: Governance, clock: Clock
) -> None:
    _open(gov, clock)
    gov.add_account("ann", PASSWORD, frozenset({Role.RESIDENT}))
    ann = gov.sign_in("ann", PASSWORD, client="c").principal
    first = gov.leave_comment(ann, "prevention-2027", "More falls prevention, please.", client="c")
    second = gov.leave_comment(ann, "prevention-2027", "Spam spam spam", client="c")
    assert gov.published_comments("prevention-2027").empty
    moderator = Principal("mod", frozenset({Role.MODERATOR}), via="session")
    pending = gov.pending_comments(moderator)
    assert set(pending["id"]) == {first, second}
    assert "account" not in pending.columns
    gov.moderate(moderator, first, "publish", "", client="c")
    gov.moderate(moderator, second, "reject", "off topic", client="c")
    published = gov.published_comments("prevention-2027")
    assert published["body"].tolist() == ["More falls prevention, please."]
    assert set(published.columns) == {"id", "submitted_on", "body"}
    with pytest.raises(NotFound):
        gov.moderate(moderator, second, "publish", "", client="c")
    with pytest.raises(PermissionDenied):
        gov.pending_comments(ann)


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("Write to me at ann@example.org", "e-mail"),
        ("Call 0161 234 5678 any time", "phone"),
        ("My NHS number is 943 476 5919", "NHS number"),
        ("I live at M1 1AE", "postcode"),
    ],
)
def test_comments_with_personal_details_are_refused(
    gov: Governance, clock: Clock, text: str, what: str
) -> None:
    _open(gov, clock)
    gov.add_account("ann", PASSWORD, frozenset({Role.RESIDENT}))
    ann = gov.sign_in("ann", PASSWORD, client="c").principal
    with pytest.raises(ConfigError, match=what):
        gov.leave_comment(ann, "prevention-2027", text, client="c")


def test_comments_are_rate_limited_and_only_while_open(gov: Governance, clock: Clock) -> None:
    _open(gov, clock)
    gov.add_account("ann", PASSWORD, frozenset({Role.RESIDENT}))
    ann = gov.sign_in("ann", PASSWORD, client="c").principal
    for i in range(COMMENTS_PER_HOUR):
        gov.leave_comment(ann, "prevention-2027", f"Point number {i}", client="c")
    with pytest.raises(RateLimited):
        gov.leave_comment(ann, "prevention-2027", "One more", client="c")
    clock.now += timedelta(days=31)
    with pytest.raises(ConfigError, match="open from"):
        gov.leave_comment(ann, "prevention-2027", "Too late", client="c")
    with pytest.raises(NotFound):
        gov.leave_comment(ann, "no-such-consultation", "Hello", client="c")


def test_the_audit_log_records_every_write_and_cannot_be_edited(
    gov: Governance, clock: Clock
) -> None:
    gov.add_account("ann", PASSWORD, frozenset({Role.RESIDENT}))
    with pytest.raises(AuthenticationError):
        gov.sign_in("ann", "wrong wrong wrong", client="10.1.1.1")
    gov.sign_in("ann", PASSWORD, client="10.1.1.1")
    _open(gov, clock)
    log = gov.audit_log(Principal("aud", frozenset({Role.AUDITOR}), via="token"))
    assert log["action"].tolist()[::-1] == [
        "account.add",
        "session.start",
        "session.start",
        "consultation.open",
    ]
    assert log["outcome"].tolist()[::-1] == ["done", "refused", "done", "done"]
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), gov.engine.begin() as c:
        c.exec_driver_sql("UPDATE audit_log SET principal = 'someone else'")
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), gov.engine.begin() as c:
        c.exec_driver_sql("DELETE FROM audit_log")


def test_a_consultation_needs_a_board_member_or_admin(gov: Governance, clock: Clock) -> None:
    resident = Principal("r", frozenset({Role.RESIDENT}), via="session")
    with pytest.raises(PermissionDenied):
        gov.open_consultation(
            resident,
            consultation_id="x-1",
            title="t",
            summary="s",
            proposal="p",
            opens_on=date(2026, 1, 1),
            closes_on=date(2026, 2, 1),
        )


def test_a_resident_registers_themselves_and_an_address_may_make_only_a_few(
    gov: Governance,
) -> None:
    session = gov.register_resident("neighbour", PASSWORD, client="10.2.2.2")
    assert session.principal.roles == {Role.RESIDENT}
    assert gov.resume(session.secret).principal.name == "neighbour"
    with pytest.raises(ConfigError, match="exists already"):
        gov.register_resident("Neighbour", PASSWORD, client="10.2.2.3")  # names ignore case
    for i in range(4):
        gov.register_resident(f"n{i}x", PASSWORD, client="10.2.2.2")
    with pytest.raises(RateLimited, match="too many accounts"):
        gov.register_resident("one.more", PASSWORD, client="10.2.2.2")
    gov.register_resident("one.more", PASSWORD, client="10.9.9.9")
