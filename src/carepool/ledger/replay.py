"""Posting the journal's requests again, to prove each entry is what the rules made of it.

A hash chain proves only that entries were not changed after they were chained: someone
who can insert rows can append a correctly chained entry that no rule allowed. So ``verify``
also replays the fund: it opens the fund afresh in a scratch database (SQLite, in memory)
from the specification its first entry records, and posts every recorded request again, in
journal order, as the user who made it, at the moment and with the salt recorded. The
same code posts them as posted them the first time, so each request is checked again
against the rules, the users and roles, the closed periods and the fund's limits as they
stood then (the users as changed by earlier entries: the specification's versions are
chained entries). If the replayed journal is the stored one, hash for hash, every entry is
what its request made under the rules; the first that is not is named, with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select

from carepool.errors import CarepoolError
from carepool.ledger.posting import apply, open_entry
from carepool.ledger.records.fund import FundContext
from carepool.ledger.records.spec import parse_spec
from carepool.ledger.requests import LedgerRequest, request_digest
from carepool.ledger.store import database
from carepool.ledger.store.schema import journal, metadata, postings
from carepool.ledger.store.writer import Tx

#: Requests posted again in one scratch transaction; a refusal replays its batch one by one.
BATCH = 500
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True)
class Finding:
    """The first entry the replay does not reproduce, and why."""

    seq: int
    problem: str


@dataclass(frozen=True)
class _Recorded:
    seq: int
    actor: str
    request_id: str
    request_digest: str
    request: str | None
    salt: str | None
    posted_at: str
    hash: str


class _Stamps:
    """The recorded time and salt of each entry, handed out in journal order (the writer asks
    for the time, then the salt, once per entry it appends)."""

    def __init__(self, rows: Sequence[_Recorded]) -> None:
        self.rows = rows
        self.next = 0

    def clock(self) -> datetime:
        if self.next >= len(self.rows):
            return datetime.now(UTC)  # more entries than recorded: caught when compared
        text = self.rows[self.next].posted_at
        try:
            return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)
        except ValueError:
            return datetime.now(UTC)  # an unreadable time cannot be reproduced: caught too

    def salt(self) -> str:
        row = self.rows[self.next] if self.next < len(self.rows) else None
        self.next += 1
        return row.salt if row is not None and row.salt is not None else ""


def replay(connection: Connection, ctx: FundContext) -> Finding | None:
    """Post the fund's recorded requests again; the first entry not reproduced, or None."""
    rows = _recorded(connection, ctx.id)
    if not rows or any(row.seq != n for n, row in enumerate(rows, start=1)):
        return None  # nothing to replay, or entries missing: the chain's check names them
    starts: list[int] = []  # indexes of the rows that begin a request
    for index, row in enumerate(rows):
        if row.request is not None:
            starts.append(index)
        elif "#" not in row.request_id:
            return Finding(row.seq, _no_request(row))
    if not starts or starts[0] != 0:
        return Finding(rows[0].seq, _no_request(rows[0]))
    engine = database.open_engine("sqlite://")
    try:
        metadata.create_all(engine)
        return _replay_into(engine, connection, ctx.id, rows, starts)
    finally:
        engine.dispose()


def _no_request(row: _Recorded) -> str:
    if row.salt is None:
        return (
            "it was written before the ledger recorded requests (migration 0002), so it cannot "
            "be posted again and checked against the rules"
        )
    return "it records no request, so nothing made it under the rules"


def _replay_into(
    engine: Engine,
    stored: Connection,
    fund_id: str,
    rows: list[_Recorded],
    starts: list[int],
) -> Finding | None:
    stamps = _Stamps(rows)
    first = rows[0]
    try:
        record = json.loads(first.request or "")
        spec = parse_spec(record["fields"]["spec"], f"fund {fund_id}'s opening entry")
        digest = request_digest("open", first.actor, {"spec": record["fields"]["spec"]})
        if digest != first.request_digest:
            return Finding(first.seq, "its recorded request differs from the one it committed to")
        with engine.begin() as scratch:
            open_entry(
                scratch, spec, first.actor, first.request_id, digest,
                clock=stamps.clock, salts=stamps.salt,
            )  # fmt: skip
    except (CarepoolError, ValueError, KeyError, TypeError, RecursionError) as exc:
        why = exc if isinstance(exc, CarepoolError) else type(exc).__name__
        return Finding(first.seq, f"the fund cannot be opened again from it: {why}")
    ctx = FundContext(spec)
    requests: list[tuple[int, LedgerRequest]] = []
    for index in starts[1:]:
        row = rows[index]
        try:
            request = LedgerRequest.from_recorded(
                row.request or "", actor=row.actor, request_id=row.request_id
            )
        except CarepoolError as exc:
            return Finding(row.seq, str(exc))
        if request.digest() != row.request_digest:
            return Finding(row.seq, "its recorded request differs from the one it committed to")
        requests.append((index, request))
    after = 2  # the first entry not yet compared
    for start in range(0, len(requests), BATCH):
        refused = _post_batch(engine, ctx, stamps, requests[start : start + BATCH])
        mismatch, after = _compare(engine, stored, fund_id, rows, after)
        if mismatch is not None and (refused is None or mismatch.seq <= refused.seq):
            return mismatch
        if refused is not None:
            return refused
    if after <= len(rows):
        return Finding(rows[after - 1].seq, "posting the recorded requests again does not make it")
    return None


def _post_batch(
    engine: Engine, ctx: FundContext, stamps: _Stamps, batch: list[tuple[int, LedgerRequest]]
) -> Finding | None:
    """Post ``batch`` in one scratch transaction; if one is refused, post them one at a time
    to name the first refused."""

    def post(connection: Connection, part: list[tuple[int, LedgerRequest]]) -> None:
        tx = Tx(connection, ctx, stamps.clock, [r.request_id for _, r in part], salts=stamps.salt)
        for index, request in part:  # its digest was checked against the recorded one
            apply(tx, request, stamps.rows[index].request_digest)
        tx.flush()

    try:
        with engine.begin() as connection:
            post(connection, batch)
        return None
    except CarepoolError:
        pass  # post them again one at a time, each from its own entry's stamps
    for index, request in batch:
        stamps.next = index
        try:
            with engine.begin() as connection:
                post(connection, [(index, request)])
        except CarepoolError as exc:
            return Finding(
                stamps.rows[index].seq,
                f"posted again under the rules, users and periods in force then, it is "
                f"refused: {exc}",
            )
    return None


def _compare(
    engine: Engine, stored: Connection, fund_id: str, rows: list[_Recorded], after: int
) -> tuple[Finding | None, int]:
    """The first entry from ``after`` on whose replayed hash is not the stored one, and the
    first entry not yet replayed."""
    with database.reading(engine) as scratch:
        replayed = scratch.execute(
            select(journal.c.seq, journal.c.hash)
            .where(journal.c.seq >= after)
            .order_by(journal.c.seq)
        ).all()
    for seq, digest in replayed:
        if seq > len(rows):
            return Finding(seq, "posting the journal's requests again makes entries it lacks"), seq
        if digest != rows[seq - 1].hash:
            return Finding(seq, _difference(engine, stored, fund_id, seq)), seq
    return None, (replayed[-1][0] + 1 if replayed else after)


def _difference(engine: Engine, stored: Connection, fund_id: str, seq: int) -> str:
    """Which part of entry ``seq`` differs between the journal and the replay."""
    with database.reading(engine) as scratch:
        again = _entry(scratch, fund_id, seq)
    found = _entry(stored, fund_id, seq)
    differing = [name for name in found if found.get(name) != again.get(name)]
    what = ", ".join(differing) if differing else "its hash"
    return f"posted again under the rules in force then, its request makes a different {what}"


def _entry(connection: Connection, fund_id: str, seq: int) -> dict[str, Any]:
    row = connection.execute(
        select(
            journal.c.kind,
            journal.c.period,
            journal.c.posted_at,
            journal.c.actor,
            journal.c.description,
            journal.c.ref_seq,
            journal.c.payload,
        ).where(journal.c.fund_id == fund_id, journal.c.seq == seq)
    ).first()
    if row is None:
        return {}
    entry = dict(row._mapping)
    entry["postings"] = [
        tuple(p)
        for p in connection.execute(
            select(
                postings.c.account,
                postings.c.line_id,
                postings.c.partner_id,
                postings.c.category,
                postings.c.amount_pence,
            )
            .where(postings.c.fund_id == fund_id, postings.c.seq == seq)
            .order_by(postings.c.no)
        )
    ]
    return entry


def _recorded(connection: Connection, fund_id: str) -> list[_Recorded]:
    rows: Iterator[Any] = connection.execution_options(yield_per=5000).execute(
        select(
            journal.c.seq,
            journal.c.actor,
            journal.c.request_id,
            journal.c.request_digest,
            journal.c.request,
            journal.c.salt,
            journal.c.posted_at,
            journal.c.hash,
        )
        .where(journal.c.fund_id == fund_id)
        .order_by(journal.c.seq)
    )
    return [_Recorded(*(row)) for row in rows]
