"""The ledger's Python API: open a fund, post to it, read its position, verify its journal.

Every write names the user making it (``actor``) and carries a client request id; a retried
request is posted once and gets the first result back. A request either writes everything
it should or nothing at all.

>>> ledger = Ledger.connect("sqlite:///carepool-data/ledger.sqlite")   # doctest: +SKIP
>>> ledger.contribute("gm-2026-27", partner="E08000003", amount_pence=50_000_000_00,
...                   actor="finance.manchester", request_id="mcr-q1")  # doctest: +SKIP
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

import pandas as pd
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from carepool.errors import CarepoolError, LedgerError, PermissionDenied
from carepool.ledger import database, monitor, reports
from carepool.ledger.chain import ChainCheck, canonical, sha256
from carepool.ledger.entries import Entry, Receipt
from carepool.ledger.fund import FundContext, load_context, users_after
from carepool.ledger.group_commit import GroupCommit
from carepool.ledger.operations import OPERATIONS
from carepool.ledger.schema import funds, journal, lines, partners, rules, users
from carepool.ledger.spec import FundSpec
from carepool.ledger.writer import Clock, Known, Tx, receipt_for, utc_now

MAX_REQUEST_ID = 120


@dataclass(frozen=True)
class Request:
    """One request to the ledger: an operation, its fields, who asks, and its request id."""

    operation: str
    actor: str
    request_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def digest(self) -> str:
        """What identifies the request's content, for telling a retry from a clash."""
        return sha256(
            canonical(
                {"operation": self.operation, "actor": self.actor, "fields": dict(self.fields)}
            )
        )


class Ledger:
    """A connection to the ledger database, and every operation on its funds."""

    def __init__(self, engine: Engine, clock: Clock = utc_now) -> None:
        self.engine = engine
        self.clock = clock
        self._contexts: dict[str, FundContext] = {}
        self._written = 0
        self._growth = threading.Lock()
        self._groups: GroupCommit[tuple[Request, str], Receipt] = GroupCommit(self._post_group)

    @classmethod
    def connect(cls, url: str, *, schema: str | None = None, clock: Clock = utc_now) -> Ledger:
        """Connect to ``url`` and bring its ledger tables up to date (Alembic migrations)."""
        engine = database.connect(url, schema=schema)
        database.migrate(engine)
        return cls(engine, clock)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- funds ------------------------------------------------------------------------------

    def funds(self) -> list[str]:
        with database.reading(self.engine) as connection:
            return list(connection.execute(select(funds.c.id).order_by(funds.c.id)).scalars())

    def context(self, fund_id: str) -> FundContext:
        if fund_id not in self._contexts:
            with database.reading(self.engine) as connection:
                self._contexts[fund_id] = load_context(connection, fund_id)
        return self._contexts[fund_id]

    def open_fund(self, spec: FundSpec, *, actor: str, request_id: str) -> Receipt:
        """Write a fund's registries and its opening journal entry, all or nothing.

        ``actor`` must be one of the fund's users with the admin role. Opening the same
        specification again under the same request id returns the first receipt.
        """
        admin = next((u for u in spec.users if u.name == actor), None)
        if admin is None or "admin" not in admin.roles:
            raise PermissionDenied(f"{actor!r} is not an admin user of fund {spec.fund.id}")
        spec_json = spec.model_dump(mode="json")
        request = Request("open", actor, request_id, {"spec": spec_json})
        digest = request.digest()

        def work(connection: Connection) -> Receipt:
            existing = connection.execute(
                select(journal).where(journal.c.fund_id == spec.fund.id, journal.c.seq == 1)
            ).first()
            if existing is not None:
                row = dict(existing._mapping)
                if row["request_id"] == request_id and row["request_digest"] == digest:
                    return receipt_for(spec.fund.id, row, replayed=True)
                raise LedgerError(f"fund {spec.fund.id} already exists")
            _write_registries(connection, spec, spec_json)
            tx = Tx(connection, FundContext(spec), self.clock)
            entry = Entry(
                "open",
                spec.periods()[0],
                f"Fund opened: {spec.fund.name} ({spec.fund.year})",
                (),
                {"spec": spec_json},
            )
            receipt = tx.append(entry, actor, request_id, digest)
            tx.flush()
            return receipt

        _check_request_id(request_id)
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("LOCK TABLE funds IN SHARE ROW EXCLUSIVE MODE")
            return work(connection)

    # -- writing ----------------------------------------------------------------------------

    def submit(
        self, fund_id: str, requests: Sequence[Request], *, note_growth: bool = True
    ) -> list[Receipt]:
        """Post ``requests`` in order, in one transaction: all of them, or none.

        A request whose id the fund has seen before is not posted again: with the same
        content it gets the first receipt back (``replayed``), with different content it is
        an error. ``note_growth=False`` leaves refreshing the database's statistics to the
        caller.
        """
        if not requests:
            return []
        ctx = self.context(fund_id)
        for request in requests:
            _check_request(request)
        ids = [r.request_id for r in requests]
        if len(set(ids)) != len(ids):
            raise LedgerError("a request id appears twice in one batch")
        digests = [r.digest() for r in requests]

        def work(connection: Connection) -> list[Receipt]:
            tx = Tx(connection, ctx, self.clock, ids)
            receipts: list[Receipt] = []
            for i, (request, digest) in enumerate(zip(requests, digests, strict=True)):
                try:
                    receipts.append(_apply(tx, request, digest))
                except LedgerError as exc:
                    if len(requests) > 1:
                        raise type(exc)(f"request {i + 1} ({request.request_id}): {exc}") from None
                    raise
            tx.flush()
            return receipts

        try:
            receipts = database.run_write(self.engine, work)
        except IntegrityError as exc:
            raise LedgerError(f"the database refused the posting: {exc.orig}") from None
        if note_growth:
            self._note_growth(sum(not r.replayed for r in receipts), receipts[-1].seq)
        return receipts

    def post_one(self, fund_id: str, request: Request) -> Receipt:
        """Post one request; concurrent callers on one fund share a transaction (group commit).

        Safe to call from many threads at once, as an API server's workers do. Requests that
        arrive while a transaction on the fund is running wait for it to finish, then go in
        the next transaction together: one lock, one chain-head read and one commit for the
        whole group instead of one each. Each request still stands alone: it gets its own
        receipt, or its own error (a refused request leaves no trace, so the others post),
        and it returns only once its transaction has committed. See ADR 0002.
        """
        self.context(fund_id)  # an unknown fund is an error before anything queues
        _check_request(request)
        receipt = self._groups.post(fund_id, (request, request.digest()))
        # after the group, not in it: an analysis must not hold up the requests queued behind
        self._note_growth(0 if receipt.replayed else 1, receipt.seq)
        return receipt

    def _post_group(
        self, fund_id: str, group: list[tuple[Request, str]]
    ) -> list[Receipt | BaseException]:
        """One transaction for ``requests``, each with its own outcome.

        A request's own refusal (a rule, a role, a bad field) is confined to it: its builder
        raises before anything of it is appended. If the transaction fails in any other way
        (a database error, an unexpected exception from one request), each request is posted
        again in a transaction of its own, so that each gets its own true outcome.
        """
        ctx = self.context(fund_id)
        requests = [request for request, _ in group]

        def work(connection: Connection) -> list[Receipt | BaseException]:
            tx = Tx(connection, ctx, self.clock, sorted({r.request_id for r in requests}))
            outcomes: list[Receipt | BaseException] = []
            for request, digest in group:
                try:
                    outcomes.append(_apply(tx, request, digest))
                except CarepoolError as exc:  # refused, not permitted, bad field: this one only
                    outcomes.append(exc)
            tx.flush()
            return outcomes

        if len(requests) == 1:
            try:
                return database.run_write(self.engine, work)
            except IntegrityError as exc:
                raise LedgerError(f"the database refused the posting: {exc.orig}") from None
        try:
            return database.run_write(self.engine, work)
        except Exception:  # each request is run alone and gets its own outcome
            return [self._post_alone(fund_id, r) for r in requests]

    def _post_alone(self, fund_id: str, request: Request) -> Receipt | BaseException:
        try:
            return self.submit(fund_id, [request], note_growth=False)[0]
        except Exception as exc:  # the outcome of this request alone
            return exc

    def _note_growth(self, written: int, head: int) -> None:
        """Refresh the database's statistics when this process has grown the journal by a tenth.

        A fund loaded in bulk outgrows the planner's statistics long before autovacuum's next
        visit; with stale figures the planner scans the whole journal for every foreign-key
        check and request-id lookup. Analysing at each 10% of growth costs a few analyses in
        all (the count grows geometrically) and keeps every lookup on its index.
        """
        with self._growth:
            self._written += written
            if self._written < max(1_000, head // 10):
                return
            self._written = 0
        if self.engine.dialect.name == "postgresql":
            with self.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.exec_driver_sql("ANALYZE journal")
                connection.exec_driver_sql("ANALYZE postings")
        else:  # SQLite: a sampled analysis, in a write transaction like any other
            with self.engine.begin() as connection:
                connection.exec_driver_sql("PRAGMA analysis_limit = 2000")
                connection.exec_driver_sql("ANALYZE")

    def post(
        self, fund_id: str, operation: str, *, actor: str, request_id: str, **fields: Any
    ) -> Receipt:
        return self.post_one(fund_id, Request(operation, actor, request_id, fields))

    def contribute(
        self,
        fund_id: str,
        *,
        partner: str,
        amount_pence: int,
        actor: str,
        request_id: str,
        period: str | None = None,
        description: str = "",
    ) -> Receipt:
        return self.post(
            fund_id,
            "contribute",
            actor=actor,
            request_id=request_id,
            partner=partner,
            amount_pence=amount_pence,
            period=period,
            description=description,
        )

    def allocate(
        self,
        fund_id: str,
        allocations: Iterable[tuple[str, int]],
        *,
        actor: str,
        request_id: str,
        period: str | None = None,
        description: str = "",
    ) -> Receipt:
        items = [[line, amount] for line, amount in allocations]
        return self.post(
            fund_id,
            "allocate",
            actor=actor,
            request_id=request_id,
            allocations=items,
            period=period,
            description=description,
        )

    def spend(
        self,
        fund_id: str,
        *,
        line: str,
        amount_pence: int,
        actor: str,
        request_id: str,
        period: str | None = None,
        description: str = "",
        commitment: int | None = None,
    ) -> Receipt:
        return self.post(
            fund_id,
            "spend",
            actor=actor,
            request_id=request_id,
            line=line,
            amount_pence=amount_pence,
            period=period,
            description=description,
            commitment=commitment,
        )

    def commit(
        self,
        fund_id: str,
        *,
        line: str,
        amount_pence: int,
        actor: str,
        request_id: str,
        period: str | None = None,
        description: str = "",
    ) -> Receipt:
        return self.post(
            fund_id,
            "commit",
            actor=actor,
            request_id=request_id,
            line=line,
            amount_pence=amount_pence,
            period=period,
            description=description,
        )

    def virement(
        self,
        fund_id: str,
        *,
        from_line: str,
        to_line: str,
        amount_pence: int,
        reason: str,
        actor: str,
        request_id: str,
        period: str | None = None,
    ) -> Receipt:
        return self.post(
            fund_id,
            "virement",
            actor=actor,
            request_id=request_id,
            from_line=from_line,
            to_line=to_line,
            amount_pence=amount_pence,
            reason=reason,
            period=period,
        )

    def approve(
        self,
        fund_id: str,
        *,
        hold: int,
        reason: str,
        actor: str,
        request_id: str,
        approve: bool = True,
    ) -> Receipt:
        return self.post(
            fund_id,
            "approve",
            actor=actor,
            request_id=request_id,
            hold=hold,
            reason=reason,
            approve=approve,
        )

    def forecast(
        self,
        fund_id: str,
        *,
        line: str,
        outturn_pence: int,
        actor: str,
        request_id: str,
        period: str | None = None,
    ) -> Receipt:
        return self.post(
            fund_id,
            "forecast",
            actor=actor,
            request_id=request_id,
            line=line,
            outturn_pence=outturn_pence,
            period=period,
        )

    def reverse(
        self,
        fund_id: str,
        *,
        entry: int,
        reason: str,
        actor: str,
        request_id: str,
        period: str | None = None,
    ) -> Receipt:
        return self.post(
            fund_id,
            "reverse",
            actor=actor,
            request_id=request_id,
            entry=entry,
            reason=reason,
            period=period,
        )

    def close_period(
        self, fund_id: str, *, actor: str, request_id: str, period: str | None = None
    ) -> Receipt:
        return self.post(fund_id, "close_period", actor=actor, request_id=request_id, period=period)

    def settle(self, fund_id: str, *, actor: str, request_id: str, reason: str = "") -> Receipt:
        return self.post(fund_id, "settle", actor=actor, request_id=request_id, reason=reason)

    def change_user(
        self,
        fund_id: str,
        name: str,
        roles: Sequence[str],
        *,
        reason: str,
        actor: str,
        request_id: str,
        partner: str | None = None,
    ) -> Receipt:
        """Give ``name`` access to the fund with ``roles``, change them, or (no roles)
        withdraw access. Admins only; recorded in the journal with ``reason``."""
        return self.post(
            fund_id,
            "user",
            actor=actor,
            request_id=request_id,
            name=name,
            roles=list(roles),
            partner=partner,
            reason=reason,
        )

    def users(self, fund_id: str, *, actor: str) -> pd.DataFrame:
        """The fund's users now: name, partner and roles (the specification's, as changed)."""
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            reports.reader(connection, ctx, actor)
            current = users_after(ctx, reports.user_changes(connection, ctx))
        rows = [
            {"name": u.name, "partner": u.partner, "roles": ",".join(u.roles)}
            for u in sorted(current.values(), key=lambda u: u.name)
        ]
        return pd.DataFrame(rows, columns=["name", "partner", "roles"], dtype=object)

    # -- reading ----------------------------------------------------------------------------

    def position(self, fund_id: str, *, actor: str, period: str | None = None) -> reports.Position:
        ctx = self.context(fund_id)
        if period is not None and period not in (*ctx.periods, "year-end"):
            raise LedgerError(f"period: {period!r} is not a month of fund {fund_id}'s year")
        with database.reading(self.engine) as connection:
            reports.reader(connection, ctx, actor)
            return reports.position(connection, ctx, period)

    def decisions(self, fund_id: str, *, actor: str) -> pd.DataFrame:
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            reports.reader(connection, ctx, actor)
            return reports.decisions(connection, ctx)

    def burden_shift(
        self,
        fund_id: str,
        *,
        actor: str,
        warehouse: monitor.Warehouse | None = None,
        threshold: float = monitor.DEFAULT_THRESHOLD,
    ) -> pd.DataFrame:
        """The burden-shift monitor's evidence table (see :mod:`carepool.ledger.monitor`)."""
        ctx = self.context(fund_id)
        if not 0 < threshold < 1:
            raise LedgerError(f"threshold: expected a fraction between 0 and 1, got {threshold}")
        with database.reading(self.engine) as connection:
            reports.reader(connection, ctx, actor)
            spend = monitor.ledger_spend(connection, ctx)
        activity = None
        if warehouse is not None:
            measures = [
                m for link in monitor.LINKS for m in (link.cut_activity, link.rise_activity)
            ]
            activity = monitor.warehouse_activity(warehouse, measures)
        places = sorted({line.place for line in ctx.spec.lines})
        return monitor.burden_shift(spend, activity, places, threshold=threshold)

    def verify(self, fund_id: str) -> ChainCheck:
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            return reports.verify(connection, ctx)

    def export(self, fund_id: str, path: Path, *, actor: str) -> ChainCheck:
        """Write the published journal (JSON Lines) to ``path``.

        The format and a standalone check are in docs/methods/ledger-journal.md.
        """
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            reports.reader(connection, ctx, actor)
            return reports.export(connection, ctx, path)


def _check_request_id(request_id: str) -> None:
    if not isinstance(request_id, str) or not request_id.strip():
        raise LedgerError("request_id: every posting needs a client request id")
    if len(request_id) > MAX_REQUEST_ID or "#" in request_id or "\x00" in request_id:
        raise LedgerError(
            f"request_id: at most {MAX_REQUEST_ID} characters, without '#' or NUL, "
            f"got {request_id!r}"
        )


def _check_request(request: Request) -> None:
    """What can be checked before the fund's lock: the operation and the id. (The user is
    checked under the lock: another process may have just added or removed them.)"""
    if request.operation not in OPERATIONS:
        raise LedgerError(f"unknown operation {request.operation!r}")
    _check_request_id(request.request_id)


def _apply(tx: Tx, request: Request, digest: str) -> Receipt:
    """Post one request in ``tx``, or answer it from the journal if it was posted before.

    A request that fails raises before anything of it is appended, so the transaction's
    other requests are unaffected.
    """
    known = tx.known.get(request.request_id)
    if known is not None and known.digest == digest:
        return known.receipt  # the same request again (same user, same content): a retry
    user = tx.user(request.actor)  # before saying anything about another request's id
    if known is not None:
        raise LedgerError(
            f"request id {request.request_id!r} was used before for a different "
            f"request (entry {known.receipt.seq}); use a new id for a new request"
        )
    entries = OPERATIONS[request.operation](tx, user, request.fields)
    first = None
    for n, entry in enumerate(entries):
        request_id = request.request_id if n == 0 else f"{request.request_id}#{n + 1}"
        receipt = tx.append(entry, request.actor, request_id, digest)
        first = first or receipt
    assert first is not None
    tx.known[request.request_id] = Known(digest, replace(first, replayed=True))
    return first


def _write_registries(connection: Connection, spec: FundSpec, spec_json: dict[str, Any]) -> None:
    """Insert the fund's partners and users (new ones; known ones must match) and its lines."""
    for partner in spec.partners:
        row: dict[str, str | None] = {"id": partner.id, "name": partner.name, "kind": partner.kind}
        _insert_or_match(connection, partners, partners.c.id, partner.id, row, "partner")
    for user in spec.users:
        row = {"name": user.name, "partner_id": user.partner, "roles": ",".join(sorted(user.roles))}
        _insert_or_match(connection, users, users.c.name, user.name, row, "user")
    connection.execute(
        funds.insert(),
        {
            "id": spec.fund.id,
            "name": spec.fund.name,
            "host_partner_id": spec.fund.host,
            "kind": spec.fund.kind,
            "year": spec.fund.year,
            "spec": canonical(spec_json),
        },
    )
    if spec.lines:
        connection.execute(
            lines.insert(),
            [
                {
                    "fund_id": spec.fund.id,
                    "id": line.id,
                    "service": line.service,
                    "place": line.place,
                    "partner_id": line.partner,
                }
                for line in spec.lines
            ],
        )
    if spec.rules:
        connection.execute(
            rules.insert(),
            [
                {
                    "fund_id": spec.fund.id,
                    "name": rule.name,
                    "position": i,
                    "kind": rule.kind,
                    "spec": canonical(rule.model_dump(mode="json")),
                }
                for i, rule in enumerate(spec.rules)
            ],
        )


def _insert_or_match(
    connection: Connection, table: Any, key: Any, value: str, row: dict[str, str | None], what: str
) -> None:
    existing = connection.execute(select(table).where(key == value)).first()
    if existing is None:
        connection.execute(table.insert(), row)
    elif dict(existing._mapping) != row:
        raise LedgerError(
            f"{what} {value!r} is already in the ledger with other details "
            f"({json.dumps(dict(existing._mapping))}); registries are never changed"
        )
