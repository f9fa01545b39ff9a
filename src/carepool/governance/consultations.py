"""Consultations: a proposal the public can read and comment on, with moderation.

A comment is held until a moderator publishes it; a published comment shows its text and
the day it was left, never who left it. Comments that carry personal details (an e-mail
address, a phone number, an NHS number, a postcode) are refused at the door with a request
to remove them, and each resident may leave only so many comments an hour.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd
import sqlalchemy as sa
from sqlalchemy import Connection

from carepool.errors import ConfigError, NotFound, RateLimited
from carepool.governance.clock import Clock, stamp
from carepool.governance.store.schema import COMMENT_CHARS, comments, consultations

ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{1,63}")
COMMENTS_PER_HOUR = 5
DECISIONS = ("publish", "reject")

#: Personal details a published comment must not carry. A phone number and an NHS number
#: are both a run of ten or more digits, however it is spaced, dotted, dashed or bracketed
#: (``(0161) 234 5678``, ``+44 (0)7700 900123``, ``943.476.5919``); the text is compared in
#: its compatibility form (NFKC), so full-width or styled digits are digits too.
PERSONAL_DETAILS: dict[str, re.Pattern[str]] = {
    "an e-mail address": re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+"),
    "a phone number or an NHS number": re.compile(r"\+?\(?\d(?:[\s().\-/]{0,3}\d){9,}"),
    "a postcode": re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}\b", re.IGNORECASE),
}


@dataclass(frozen=True)
class Consultation:
    id: str
    title: str
    summary: str
    proposal: str
    opens_on: str
    closes_on: str
    created_by: str
    created_at: str

    def open_on(self, day: date) -> bool:
        return self.opens_on <= day.isoformat() <= self.closes_on


def open_consultation(
    connection: Connection,
    *,
    consultation_id: str,
    title: str,
    summary: str,
    proposal: str,
    opens_on: date,
    closes_on: date,
    by: str,
    clock: Clock,
) -> Consultation:
    if not ID_PATTERN.fullmatch(consultation_id):
        raise ConfigError(
            f"consultation id {consultation_id[:70]!r}: expected 2-64 lower-case letters, "
            "digits or '-'"
        )
    if not title.strip() or len(title) > 200:
        raise ConfigError("a consultation's title is 1 to 200 characters")
    if closes_on < opens_on:
        raise ConfigError("a consultation closes on or after the day it opens")
    if find(connection, consultation_id) is not None:
        raise ConfigError(f"a consultation {consultation_id!r} exists already")
    connection.execute(
        consultations.insert().values(
            id=consultation_id,
            title=title.strip(),
            summary=summary.strip(),
            proposal=proposal.strip(),
            opens_on=opens_on.isoformat(),
            closes_on=closes_on.isoformat(),
            created_by=by,
            created_at=stamp(clock()),
        )
    )
    found = find(connection, consultation_id)
    assert found is not None
    return found


def find(connection: Connection, consultation_id: str) -> Consultation | None:
    row = connection.execute(
        sa.select(consultations).where(consultations.c.id == consultation_id)
    ).first()
    return Consultation(**row._mapping) if row is not None else None


def require(connection: Connection, consultation_id: str) -> Consultation:
    found = find(connection, consultation_id) if ID_PATTERN.fullmatch(consultation_id) else None
    if found is None:
        raise NotFound(f"no consultation {consultation_id[:70]!r}")
    return found


def all_consultations(connection: Connection) -> list[Consultation]:
    rows = connection.execute(sa.select(consultations).order_by(consultations.c.opens_on.desc()))
    return [Consultation(**r._mapping) for r in rows]


def clean_comment(body: str) -> str:
    """The comment as it will be stored: control characters removed, whitespace trimmed,
    within the length limit and free of personal details."""
    text = "".join(
        ch for ch in unicodedata.normalize("NFC", body) if ch in "\n\t" or ch.isprintable()
    ).strip()
    if not text:
        raise ConfigError("write a comment before sending it")
    if len(text) > COMMENT_CHARS:
        raise ConfigError(
            f"a comment is at most {COMMENT_CHARS:,} characters; this is {len(text):,}"
        )
    compared = unicodedata.normalize("NFKC", text)
    for what, pattern in PERSONAL_DETAILS.items():
        if pattern.search(compared):
            raise ConfigError(
                f"the comment seems to contain {what}; comments are published, so please "
                "remove personal details"
            )
    return text


def leave_comment(
    connection: Connection, consultation_id: str, account: str, body: str, clock: Clock
) -> int:
    """Hold a resident's comment for moderation; its id."""
    consultation = require(connection, consultation_id)
    now = clock()
    if not consultation.open_on(now.date()):
        raise ConfigError(
            f"this consultation is open from {consultation.opens_on} to {consultation.closes_on}"
        )
    text = clean_comment(body)
    recent = connection.execute(
        sa.select(sa.func.count())
        .select_from(comments)
        .where(
            comments.c.account == account,
            comments.c.submitted_at > stamp(now - timedelta(hours=1)),
        )
    ).scalar_one()
    if recent >= COMMENTS_PER_HOUR:
        raise RateLimited(
            f"you may leave {COMMENTS_PER_HOUR} comments an hour; try again later",
            retry_after=3600,
        )
    result = connection.execute(
        comments.insert().values(
            consultation=consultation.id,
            account=account,
            body=text,
            submitted_at=stamp(now),
            status="pending",
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def moderate(
    connection: Connection, comment_id: int, decision: str, reason: str, by: str, clock: Clock
) -> str:
    """Publish or reject a pending comment; the consultation it belongs to."""
    if decision not in DECISIONS:
        raise ConfigError(f"decision {decision[:20]!r}: expected publish or reject")
    row = connection.execute(sa.select(comments).where(comments.c.id == comment_id)).first()
    if row is None or row._mapping["status"] != "pending":
        raise NotFound(f"no comment {comment_id} awaiting moderation")
    if row._mapping["account"] == by:
        raise ConfigError("a moderator does not moderate their own comment")
    connection.execute(
        comments.update()
        .where(comments.c.id == comment_id, comments.c.status == "pending")
        .values(
            status="published" if decision == "publish" else "rejected",
            moderated_by=by,
            moderated_at=stamp(clock()),
            reason=reason.strip()[:500] or None,
        )
    )
    return str(row._mapping["consultation"])


def published_comments(connection: Connection, consultation_id: str) -> pd.DataFrame:
    """What the public sees: each published comment's id, day and text; no names."""
    require(connection, consultation_id)
    rows = connection.execute(
        sa.select(comments.c.id, comments.c.submitted_at, comments.c.body)
        .where(comments.c.consultation == consultation_id, comments.c.status == "published")
        .order_by(comments.c.id)
    )
    frame = pd.DataFrame([dict(r._mapping) for r in rows], columns=["id", "submitted_at", "body"])
    frame["submitted_on"] = frame.pop("submitted_at").str[:10]
    return frame


def pending_comments(connection: Connection) -> pd.DataFrame:
    """What moderators see: pending comments with their consultation (and no author name:
    moderation is of the words, not the person)."""
    rows = connection.execute(
        sa.select(comments.c.id, comments.c.consultation, comments.c.submitted_at, comments.c.body)
        .where(comments.c.status == "pending")
        .order_by(comments.c.id)
    )
    return pd.DataFrame(
        [dict(r._mapping) for r in rows], columns=["id", "consultation", "submitted_at", "body"]
    )


def comment_counts(connection: Connection) -> dict[str, int]:
    rows = connection.execute(
        sa.select(comments.c.consultation, sa.func.count())
        .where(comments.c.status == "published")
        .group_by(comments.c.consultation)
    )
    return {str(c): int(n) for c, n in rows}
