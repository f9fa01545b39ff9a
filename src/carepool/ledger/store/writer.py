"""One write transaction on one fund: the chain head, state questions, and buffered inserts.

A :class:`Tx` takes the fund's write lock as it opens, so the chain head it reads is the true
one and no other writer can append until it commits. Entries are buffered and written
together (one statement on PostgreSQL, one multi-row insert per table on SQLite); any
question about balances flushes the buffer first, so an answer always includes what this
transaction has already posted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, and_, case, false, func, or_, select

from carepool.errors import LedgerError
from carepool.ledger.records.chain import (
    GENESIS,
    canonical,
    entry_hash,
    new_salt,
    private_digest,
    public_content,
)
from carepool.ledger.records.entries import Entry, Receipt
from carepool.ledger.records.fund import FundContext, find_user, standing, users_after
from carepool.ledger.records.money import pounds
from carepool.ledger.records.spec import Line, Scope, User
from carepool.ledger.store import postgres
from carepool.ledger.store.schema import journal, postings

Clock = Callable[[], datetime]
#: Where each entry's salt comes from: fresh random salts, or (replaying) the recorded ones.
Salts = Callable[[], str]


def utc_now() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


#: Request ids in one portable opening query; more take a query per thousand.
OPENING_IDS = 1_000

#: The most a fund may move before its year is settled, in pence, counted as its *movement*:
#: the sum of the absolute amounts of all its postings. Every sum the ledger computes (a
#: balance, a month's totals, a position, the partial sums of any of these in whatever order
#: the database adds the rows) is a sum over some of one fund's postings, so its size is at
#: most the fund's movement. 2**61 pence is £23 quadrillion, beyond any fund there could be.
MAX_MOVEMENT = 2**61
#: The ceiling for the year-end settlement, which is never refused for want of room: it zeroes
#: the pool and the lines and pays out shares that sum to no more than they held, so it moves
#: at most twice what the fund moved before it; 3 * 2**61 stays below 2**63, the largest
#: integer SQLite (and PostgreSQL's bigint) can hold, so no sum can overflow on any database.
MAX_SETTLED_MOVEMENT = 3 * 2**61
#: Below this a float sum of whole numbers is exact (SQLite's ``total``).
_EXACT_FLOAT = 2**53


def movement(entries: Iterable[Entry]) -> int:
    """The pence ``entries`` move: the sum of their postings' absolute amounts."""
    return sum(abs(p.amount_pence) for entry in entries for p in entry.postings)


class Movements:
    """Each fund's movement as of a chain head this process wrote or read (a memo, so that a
    transaction need not re-add the fund's postings; the postings remain the truth)."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._heads: dict[str, tuple[int, str, int]] = {}

    def at(self, fund_id: str) -> tuple[int, str, int] | None:
        """(seq, hash, movement) of the newest head known for the fund, or None."""
        with self._mutex:
            return self._heads.get(fund_id)

    def note(self, tx: Tx) -> None:
        """Remember ``tx``'s head and movement; call only once ``tx`` has committed."""
        with self._mutex:
            known = self._heads.get(tx.ctx.id)
            if known is None or known[0] <= tx.seq:
                self._heads[tx.ctx.id] = (tx.seq, tx.hash, tx.moved)


@dataclass(frozen=True)
class Known:
    """A request the fund has already posted: its content digest and its first receipt."""

    digest: str
    receipt: Receipt


class Tx:
    def __init__(
        self,
        connection: Connection,
        ctx: FundContext,
        clock: Clock,
        request_ids: Sequence[str] = (),
        movements: Movements | None = None,
        salts: Salts = new_salt,
    ) -> None:
        """Take the fund's write lock, then read the chain head, the closed periods, the
        changes to the fund's users and which of ``request_ids`` are posted.

        One query answers them all: the time inside the fund's lock is what limits a fund's
        throughput. On SQLite the transaction's ``BEGIN IMMEDIATE`` already holds the lock.
        The fund's movement comes from ``movements`` when it knows the head just read (no
        query at all), else from the postings written since the head it knows (or all).
        """
        self.connection = connection
        self.ctx = ctx
        self.clock = clock
        self.salts = salts
        self._journal: list[dict[str, Any]] = []
        self._postings: list[dict[str, Any]] = []
        self.known: dict[str, Known] = {}
        if connection.dialect.name == "postgresql":
            rows = postgres.lock_and_open(connection, ctx.id, request_ids)
        else:
            rows = _opening(connection, ctx.id, request_ids)
        rows.sort(key=lambda row: int(row["seq"]))  # user changes apply in order
        self.seq, self.hash = 0, GENESIS
        made = standing(ctx, (row for row in rows if row["kind"] in ("close", "user")))
        self._closed, self.users = made.closed, made.users
        for row in rows:
            if row["seq"] > self.seq:
                self.seq, self.hash = int(row["seq"]), str(row["hash"])
            if row["asked"]:
                self._know(row)
        self.moved = self._moved_at_head(movements)

    def _moved_at_head(self, movements: Movements | None) -> int:
        """The fund's movement at the head just read: remembered (no query), or the
        remembered one plus the postings appended since (the journal only grows), or all."""
        known = movements.at(self.ctx.id) if movements is not None else None
        if self.seq == 0:
            return 0
        if known is not None and known[:2] == (self.seq, self.hash):
            return known[2]
        if known is not None and known[0] < self.seq:
            return known[2] + moved_after(self.connection, self.ctx.id, known[0], self.seq)
        return moved_after(
            self.connection, self.ctx.id, 0, self.seq
        )  # never seen, or not this chain

    def _know(self, row: dict[str, Any]) -> None:
        receipt = receipt_for(self.ctx.id, row, replayed=True)
        self.known[str(row["request_id"])] = Known(str(row["request_digest"]), receipt)

    # -- writing ----------------------------------------------------------------------------

    def admit(self, entries: Sequence[Entry]) -> None:
        """Refuse ``entries`` (one request's) if they would take the fund's movement past its
        limit, so that no sum over the fund's postings can overflow; before any is appended."""
        moves = movement(entries)
        if not moves:
            return  # an entry that moves nothing (a hold, a close) is never refused for room
        settling = any(entry.kind == "settlement" for entry in entries)
        limit = MAX_SETTLED_MOVEMENT if settling else MAX_MOVEMENT
        if self.moved + moves > limit:
            raise LedgerError(
                f"fund {self.ctx.id} has moved {pounds(self.moved)} in all; this request would "
                f"move {pounds(moves)} more, past the ledger's limit of {pounds(limit)} moved "
                "by one fund in its year (the limit keeps every total the ledger adds up "
                "within what the database can hold); nothing was posted"
            )

    def append(
        self,
        entry: Entry,
        actor: str,
        request_id: str,
        request_digest: str,
        request: str | None = None,
    ) -> Receipt:
        """Chain ``entry`` after the head and buffer it; the receipt names its place.

        ``request`` is the request that made the entry (canonical JSON), recorded with the
        first entry of each request so that ``verify`` can post it again.
        """
        seq = self.seq + 1
        posted_at = timestamp(self.clock())
        salt = self.salts()
        rows = [[i + 1, entry.period, *p.row()] for i, p in enumerate(entry.postings)]
        content = public_content(
            fund=self.ctx.id,
            seq=seq,
            kind=entry.kind,
            period=entry.period,
            posted_at=posted_at,
            description=entry.description,
            ref_seq=entry.ref_seq,
            payload=entry.payload,
            postings=rows,
            private=private_digest(actor, request_id, request_digest, salt),
        )
        moved = self.moved + movement([entry])
        if moved > MAX_SETTLED_MOVEMENT:  # admit() refuses first; this is the backstop
            raise LedgerError(f"fund {self.ctx.id} cannot move more than {pounds(moved)}")
        digest = entry_hash(self.hash, content)
        self._journal.append(
            {
                "fund_id": self.ctx.id,
                "seq": seq,
                "kind": entry.kind,
                "period": entry.period,
                "posted_at": posted_at,
                "actor": actor,
                "request_id": request_id,
                "request_digest": request_digest,
                "description": entry.description,
                "ref_seq": entry.ref_seq,
                "payload": canonical(entry.payload),
                "prev_hash": self.hash,
                "hash": digest,
                "salt": salt,
                "request": request,
            }
        )
        for no, period, account, line, partner, category, amount in rows:
            self._postings.append(
                {
                    "fund_id": self.ctx.id,
                    "seq": seq,
                    "no": no,
                    "period": period,
                    "account": account,
                    "line_id": line,
                    "partner_id": partner,
                    "category": category,
                    "amount_pence": amount,
                }
            )
        self.seq, self.hash, self.moved = seq, digest, moved
        if entry.kind == "close":
            self._closed.append(entry.period)
        if entry.kind == "user":
            self.users = users_after(self.ctx, [entry.payload], self.users)
        return receipt_for(self.ctx.id, self._journal[-1])

    def flush(self) -> None:
        if not self._journal:
            return
        if self.connection.dialect.name == "postgresql":
            postgres.insert(self.connection, self._journal, self._postings)
        else:
            self.connection.execute(journal.insert(), self._journal)
            if self._postings:
                self.connection.execute(postings.insert(), self._postings)
        self._journal, self._postings = [], []

    # -- questions about the fund -----------------------------------------------------------

    def closed_periods(self) -> list[str]:
        return self._closed

    def user(self, name: str) -> User:
        """A user of the fund as of this transaction, changes included."""
        return find_user(self.users, name, self.ctx.id)

    def balance(self, account: str, *, line: str | None = None, partner: str | None = None) -> int:
        self.flush()
        query = select(func.coalesce(func.sum(postings.c.amount_pence), 0)).where(
            postings.c.fund_id == self.ctx.id, postings.c.account == account
        )
        if line is not None:
            query = query.where(postings.c.line_id == line)
        if partner is not None:
            query = query.where(postings.c.partner_id == partner)
        return int(self.connection.execute(query).scalar_one())

    def balances(self, account: str, by: str) -> dict[str, int]:
        """Balances of ``account`` by ``line_id`` or ``partner_id``."""
        self.flush()
        column = postings.c[by]
        rows = self.connection.execute(
            select(column, func.sum(postings.c.amount_pence))
            .where(postings.c.fund_id == self.ctx.id, postings.c.account == account)
            .group_by(column)
        )
        return {str(key): int(total) for key, total in rows if key is not None}

    def period_totals(self, period: str) -> list[list[Any]]:
        """The period's postings summed by line, partner, account and category (with counts)."""
        self.flush()
        rows = self.connection.execute(
            select(*TOTAL_KEYS, func.sum(postings.c.amount_pence), func.count())
            .where(postings.c.fund_id == self.ctx.id, postings.c.period == period)
            .group_by(*TOTAL_KEYS)
        )
        return sorted_totals([[*row[:4], int(row[4]), int(row[5])] for row in rows])

    def moved_out(self, line_id: str, period: str) -> int:
        """Budget moved out of a line in the fund's year up to and including ``period``."""
        self.flush()
        query = select(func.coalesce(func.sum(postings.c.amount_pence), 0)).where(
            postings.c.fund_id == self.ctx.id,
            postings.c.line_id == line_id,
            postings.c.account == "line",
            postings.c.category == "budget",
            postings.c.period <= period,  # every month of the year so far ("year-end" sorts after)
            postings.c.amount_pence < 0,
        )
        return -int(self.connection.execute(query).scalar_one())

    def lines_in(self, scope: Scope) -> list[Line]:
        return self.ctx.lines_in(scope)

    def budget_of(self, line_ids: list[str]) -> int:
        if not line_ids:
            return 0
        self.flush()
        query = select(func.coalesce(func.sum(postings.c.amount_pence), 0)).where(
            postings.c.fund_id == self.ctx.id,
            postings.c.account == "line",
            postings.c.category == "budget",
        )
        if len(line_ids) < len(self.ctx.lines):
            query = query.where(postings.c.line_id.in_(line_ids))
        return int(self.connection.execute(query).scalar_one())

    def entry(self, seq: int) -> dict[str, Any] | None:
        """A journal entry already in the fund, with its postings, or None."""
        self.flush()
        row = self.connection.execute(
            select(journal).where(journal.c.fund_id == self.ctx.id, journal.c.seq == seq)
        ).first()
        if row is None:
            return None
        found = dict(row._mapping)
        found["payload"] = json.loads(found["payload"])
        found["postings"] = [
            dict(p._mapping)
            for p in self.connection.execute(
                select(postings)
                .where(postings.c.fund_id == self.ctx.id, postings.c.seq == seq)
                .order_by(postings.c.no)
            )
        ]
        return found

    def referring(self, seq: int, kinds: Iterable[str]) -> list[dict[str, Any]]:
        """Entries that refer to entry ``seq`` (reversals of it, decisions on it ...)."""
        self.flush()
        rows = self.connection.execute(
            select(journal)
            .where(
                and_(
                    journal.c.fund_id == self.ctx.id,
                    journal.c.ref_seq == seq,
                    journal.c.kind.in_(list(kinds)),
                )
            )
            .order_by(journal.c.seq)
        )
        found = []
        for row in rows:
            item = dict(row._mapping)
            item["payload"] = json.loads(item["payload"])
            found.append(item)
        return found

    def ref_balance(self, seq: int, account: str) -> int:
        """The sum on ``account`` over entry ``seq``, the entries referring to it, and theirs."""
        self.flush()
        referring = select(journal.c.seq).where(
            journal.c.fund_id == self.ctx.id, journal.c.ref_seq == seq
        )
        # and the entries that refer to those: the reversal of a spend that drew on a commitment
        second = select(journal.c.seq).where(
            journal.c.fund_id == self.ctx.id, journal.c.ref_seq.in_(referring)
        )
        query = select(func.coalesce(func.sum(postings.c.amount_pence), 0)).where(
            postings.c.fund_id == self.ctx.id,
            postings.c.account == account,
            (postings.c.seq == seq) | postings.c.seq.in_(referring) | postings.c.seq.in_(second),
        )
        return int(self.connection.execute(query).scalar_one())


def moved_after(connection: Connection, fund_id: str, seq: int, head: int = 2**62) -> int:
    """The movement of the fund's postings after entry ``seq`` (up to ``head``), exactly, on
    any database.

    PostgreSQL sums bigints as numeric, which cannot overflow. SQLite's ``total`` adds in
    floating point, exact below 2**53 pence (£90 trillion); above that (a fund written before
    the limit, or the limit's own tests) the amounts are added here instead.
    """
    if connection.dialect.name == "postgresql":
        return postgres.moved(connection, fund_id, seq, head)
    amounts = func.abs(postings.c.amount_pence)
    where = (postings.c.fund_id == fund_id, postings.c.seq > seq, postings.c.seq <= head)
    approximate = float(connection.execute(select(func.total(amounts)).where(*where)).scalar_one())
    if approximate < _EXACT_FLOAT:
        return int(approximate)
    rows = connection.execution_options(yield_per=10_000).execute(
        select(postings.c.amount_pence).where(*where)
    )
    return sum(abs(int(amount)) for amount in rows.scalars())


def _opening(
    connection: Connection, fund_id: str, request_ids: Sequence[str]
) -> list[dict[str, Any]]:
    """:func:`carepool.ledger.store.postgres.lock_and_open`'s read in portable SQL, ids a
    thousand at a time."""
    ids = list(request_ids)
    first, rest = ids[:OPENING_IDS], ids[OPENING_IDS:]
    head_seq = select(func.max(journal.c.seq)).where(journal.c.fund_id == fund_id).scalar_subquery()
    asked = journal.c.request_id.in_(first) if first else false()
    query = (
        select(
            journal.c.seq,
            journal.c.hash,
            journal.c.kind,
            journal.c.period,
            journal.c.request_id,
            journal.c.request_digest,
            case((journal.c.kind.in_(["close", "user"]), journal.c.actor), else_=None).label(
                "actor"
            ),
            case((asked, True), else_=False).label("asked"),
            case((asked | (journal.c.kind == "user"), journal.c.payload), else_=None).label(
                "payload"
            ),
        ).where(
            journal.c.fund_id == fund_id,
            or_(journal.c.seq == head_seq, journal.c.kind.in_(["close", "user"]), asked),
        )
        # no ORDER BY: SQLite would walk the fund's whole journal in key order to avoid a
        # sort of a handful of rows; they are put in order below
    )
    rows = {int(row.seq): dict(row._mapping) for row in connection.execute(query)}
    for start in range(0, len(rest), OPENING_IDS):
        chunk = rest[start : start + OPENING_IDS]
        found = connection.execute(
            select(journal).where(journal.c.fund_id == fund_id, journal.c.request_id.in_(chunk))
        )
        for row in found:  # an entry already read (a close or user entry) is now also asked
            rows[int(row.seq)] = dict(row._mapping, asked=True)
    return [rows[seq] for seq in sorted(rows)]


TOTAL_KEYS = (postings.c.line_id, postings.c.partner_id, postings.c.account, postings.c.category)


def sorted_totals(rows: list[list[Any]]) -> list[list[Any]]:
    """Totals in one order on every database (NULLs sort differently in SQLite and PostgreSQL)."""
    return sorted(rows, key=lambda r: (r[0] or "", r[1] or "", r[2], r[3]))


def totals_of(entries: Iterable[Entry]) -> list[list[Any]]:
    """:meth:`Tx.period_totals` for entries not yet written."""
    sums: dict[tuple[Any, ...], list[int]] = {}
    for entry in entries:
        for p in entry.postings:
            cell = sums.setdefault((p.line, p.partner, p.account, p.category), [0, 0])
            cell[0] += p.amount_pence
            cell[1] += 1
    return sorted_totals([[*key, total, count] for key, (total, count) in sums.items()])


def receipt_for(fund_id: str, row: dict[str, Any], replayed: bool = False) -> Receipt:
    """The receipt of a written entry: the same whether first posted or replayed."""
    kind = str(row["kind"])
    payload = row["payload"]
    if isinstance(payload, str):
        payload = json.loads(payload)
    status = {"hold": "held", "decision": "decided"}.get(kind, "posted")
    detail: dict[str, Any] = {}
    if kind == "hold":
        detail["rules"] = payload.get("rules", [])
    if kind == "decision":
        detail["outcome"] = payload.get("outcome")
        if payload.get("posted"):
            detail["posted_seq"] = int(row["seq"]) + 1
    return Receipt(
        fund=fund_id,
        seq=int(row["seq"]),
        kind=kind,
        status=status,
        request_id=str(row["request_id"]),
        hash=str(row["hash"]),
        replayed=replayed,
        detail=detail,
    )
