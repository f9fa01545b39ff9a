"""The ledger's Python API: open a fund, post to it, read its position, verify its journal.

Every write names the user making it (``actor``) and carries a client request id; a retried
request is posted once and gets the first result back. A request either writes everything
it should or nothing at all.

>>> ledger = Ledger.connect("sqlite:///carepool-data/ledger.sqlite")   # doctest: +SKIP
>>> ledger.post("gm-2026-27", Contribute(partner="E08000003", amount_pence=50_000_000_00),
...             actor="finance.manchester", request_id="mcr-q1")  # doctest: +SKIP
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Self

import pandas as pd
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import DBAPIError, IntegrityError

from carepool.errors import CarepoolError, ConfigError, LedgerError, PermissionDenied
from carepool.ledger import reports, verification
from carepool.ledger.posting import apply, open_entry, require_opener
from carepool.ledger.records.chain import ChainCheck, new_salt
from carepool.ledger.records.checkpoint import Checkpoint, check_signature, sign
from carepool.ledger.records.entries import Receipt
from carepool.ledger.records.fund import FundContext
from carepool.ledger.records.roles import require_private_reader
from carepool.ledger.records.spec import FundSpec
from carepool.ledger.requests import LedgerRequest, Operation, check_request_id, request_digest
from carepool.ledger.store import database
from carepool.ledger.store.group_commit import GroupCommit
from carepool.ledger.store.registries import load_context
from carepool.ledger.store.schema import funds, journal
from carepool.ledger.store.writer import (
    Clock,
    Movements,
    Salts,
    Tx,
    receipt_for,
    timestamp,
    utc_now,
)


class Ledger:
    """A connection to the ledger database, and every operation on its funds."""

    def __init__(self, engine: Engine, clock: Clock = utc_now, salts: Salts = new_salt) -> None:
        self.engine = engine
        self.clock = clock
        self.salts = salts
        #: the database login (PostgreSQL), and whether it may act for any user of a fund
        self.login, self._acts_for_anyone = database.principal(engine)
        self._contexts: dict[str, FundContext] = {}
        self._written = 0
        self._growth = threading.Lock()
        self._movements = Movements()
        self._groups: GroupCommit[tuple[LedgerRequest, str], Receipt] = GroupCommit(
            self._post_group
        )

    @classmethod
    def connect(
        cls,
        url: str,
        *,
        schema: str | None = None,
        clock: Clock = utc_now,
        salts: Salts = new_salt,
        create: bool = True,
        role: str | None = None,
    ) -> Ledger:
        """Connect to ``url``, whose ledger tables must be at the newest migration
        (:func:`migrate`; a new SQLite file is set up on first use, unless not to ``create``
        one: then a missing file is a :class:`ConfigError`). ``role`` (PostgreSQL) acts as that
        person's database role (:func:`carepool.ledger.store.database.open_engine`)."""
        engine = database.open_engine(url, schema=schema, create=create, role=role)
        try:
            database.require_current(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine, clock, salts)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _acting(self, actor: str) -> None:
        """Refuse to act as anyone but the login, unless it is the owner's (see
        :func:`carepool.ledger.store.database.principal`); the database checks it again."""
        if not self._acts_for_anyone and actor != self.login:
            raise PermissionDenied(
                f"you are logged in to the ledger database as {self.login!r} and may act only "
                f"as that user, not as {actor!r}"
            )

    def _reader(self, actor: str) -> str:
        self._acting(actor)
        return actor

    # -- funds ------------------------------------------------------------------------------

    def funds(self) -> list[str]:
        with database.reading(self.engine) as connection:
            return list(connection.execute(select(funds.c.id).order_by(funds.c.id)).scalars())

    def context(self, fund_id: str) -> FundContext:
        """The fund's specification with the lookups postings need (read once, then cached:
        a specification never changes)."""
        if fund_id not in self._contexts:
            with database.reading(self.engine) as connection:
                self._contexts[fund_id] = load_context(connection, fund_id)
        return self._contexts[fund_id]

    def spec(self, fund_id: str) -> FundSpec:
        """The fund's specification: partners, users at opening, lines, rules, risk share."""
        return self.context(fund_id).spec

    def open_fund(self, spec: FundSpec, *, actor: str, request_id: str) -> Receipt:
        """Write a fund's registries and its opening journal entry, all or nothing.

        ``actor`` must be one of the fund's users with the admin role. Opening the same
        specification again under the same request id returns the first receipt.
        """
        self._acting(actor)
        require_opener(spec, actor)
        spec_json = spec.model_dump(mode="json")
        digest = request_digest("open", actor, {"spec": spec_json})

        def work(connection: Connection) -> Receipt:
            existing = connection.execute(
                select(journal).where(journal.c.fund_id == spec.fund.id, journal.c.seq == 1)
            ).first()
            if existing is not None:
                row = dict(existing._mapping)
                if row["request_id"] == request_id and row["request_digest"] == digest:
                    return receipt_for(spec.fund.id, row, replayed=True)
                raise LedgerError(f"fund {spec.fund.id} already exists")
            return open_entry(
                connection, spec, actor, request_id, digest, clock=self.clock, salts=self.salts
            )

        check_request_id(request_id)
        try:
            return self._open(work)
        except DBAPIError as exc:
            raise database.refused(exc) from None

    def _open(self, work: Callable[[Connection], Receipt]) -> Receipt:
        with self.engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                # one opening at a time (a shared partner or user is inserted once); an
                # advisory lock needs no privilege on the tables
                connection.exec_driver_sql(
                    "SELECT pg_advisory_xact_lock(hashtext('carepool open'))"
                )
            return work(connection)

    # -- writing ----------------------------------------------------------------------------

    def post(self, fund_id: str, request: Operation, *, actor: str, request_id: str) -> Receipt:
        """Post one typed request (:mod:`carepool.ledger.requests`) as ``actor``.

        >>> ledger.post(fund, Spend(line="asc", amount_pence=500), actor="finance.council",
        ...             request_id="inv-17")  # doctest: +SKIP
        """
        return self.post_one(fund_id, LedgerRequest.of(request, actor=actor, request_id=request_id))

    def submit(
        self, fund_id: str, requests: Sequence[LedgerRequest], *, note_growth: bool = True
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
            self._acting(request.actor)
        ids = [r.request_id for r in requests]
        if len(set(ids)) != len(ids):
            raise LedgerError("a request id appears twice in one batch")
        digests = [r.digest() for r in requests]

        written: list[Tx] = []

        def work(connection: Connection) -> list[Receipt]:
            tx = Tx(connection, ctx, self.clock, ids, self._movements, self.salts)
            written[:] = [tx]
            receipts: list[Receipt] = []
            for i, (request, digest) in enumerate(zip(requests, digests, strict=True)):
                try:
                    receipts.append(apply(tx, request, digest))
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
        self._movements.note(written[0])  # committed: the last attempt's transaction
        if note_growth:
            self._note_growth(sum(not r.replayed for r in receipts), receipts[-1].seq)
        return receipts

    def post_one(self, fund_id: str, request: LedgerRequest) -> Receipt:
        """Post one request; concurrent callers on one fund share a transaction (group commit).

        Safe to call from many threads at once, as an API server's workers do. Requests that
        arrive while a transaction on the fund is running wait for it to finish, then go in
        the next transaction together: one lock, one chain-head read and one commit for the
        whole group instead of one each. Each request still stands alone: it gets its own
        receipt, or its own error (a refused request leaves no trace, so the others post),
        and it returns only once its transaction has committed. See ADR 0002.
        """
        self.context(fund_id)  # an unknown fund is an error before anything queues
        self._acting(request.actor)
        receipt = self._groups.post(fund_id, (request, request.digest()))
        # after the group, not in it: an analysis must not hold up the requests queued behind
        self._note_growth(0 if receipt.replayed else 1, receipt.seq)
        return receipt

    def _post_group(
        self, fund_id: str, group: list[tuple[LedgerRequest, str]]
    ) -> list[Receipt | BaseException]:
        """One transaction for ``requests``, each with its own outcome.

        A request's own refusal (a rule, a role, a bad field) is confined to it: its builder
        raises before anything of it is appended. If the transaction fails in any other way
        (a database error, an unexpected exception from one request), each request is posted
        again in a transaction of its own, so that each gets its own true outcome.
        """
        ctx = self.context(fund_id)
        requests = [request for request, _ in group]

        written: list[Tx] = []

        def work(connection: Connection) -> list[Receipt | BaseException]:
            ids = sorted({r.request_id for r in requests})
            tx = Tx(connection, ctx, self.clock, ids, self._movements, self.salts)
            written[:] = [tx]
            outcomes: list[Receipt | BaseException] = []
            for request, digest in group:
                try:
                    outcomes.append(apply(tx, request, digest))
                except CarepoolError as exc:  # refused, not permitted, bad field: this one only
                    outcomes.append(exc)
            tx.flush()
            return outcomes

        if len(requests) == 1:
            try:
                outcomes = database.run_write(self.engine, work)
            except IntegrityError as exc:
                raise LedgerError(f"the database refused the posting: {exc.orig}") from None
        else:
            try:
                outcomes = database.run_write(self.engine, work)
            except Exception:  # each request is run alone and gets its own outcome
                return [self._post_alone(fund_id, r) for r in requests]
        self._movements.note(written[0])  # committed: the last attempt's transaction
        return outcomes

    def _post_alone(self, fund_id: str, request: LedgerRequest) -> Receipt | BaseException:
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
            if not self._acts_for_anyone:
                return  # only the tables' owner may analyse them; autovacuum does it for others
            with self.engine.connect() as connection:
                connection.execution_options(isolation_level="AUTOCOMMIT")
                connection.exec_driver_sql("ANALYZE journal")
                connection.exec_driver_sql("ANALYZE postings")
        else:  # SQLite: a sampled analysis, in a write transaction like any other
            with self.engine.begin() as connection:
                connection.exec_driver_sql("PRAGMA analysis_limit = 2000")
                connection.exec_driver_sql("ANALYZE")

    # -- reading ----------------------------------------------------------------------------

    def roles_of(self, fund_id: str, *, actor: str) -> tuple[str, ...]:
        """The acting user's roles in the fund now, as changed since its opening: how other
        capabilities (person-level model results, for analysts) learn what a principal may
        do. A user may ask only as themselves (on PostgreSQL, the database login)."""
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            made = reports.fund_standing(connection, ctx, closes=False)
            reports.reader(connection, ctx, self._reader(actor), made)
        user = made.users.get(actor)
        if user is None:
            raise PermissionDenied(f"{actor!r} is not a user of fund {fund_id}")
        return tuple(user.roles)

    def users(self, fund_id: str, *, actor: str) -> pd.DataFrame:
        """The fund's users now: name, partner and roles (the specification's, as changed)."""
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            made = reports.fund_standing(connection, ctx, closes=False)
            reports.reader(connection, ctx, self._reader(actor), made)
            current = made.users
        rows = [
            {"name": u.name, "partner": u.partner, "roles": ",".join(u.roles)}
            for u in sorted(current.values(), key=lambda u: u.name)
        ]
        return pd.DataFrame(rows, columns=["name", "partner", "roles"], dtype=object)

    def position(self, fund_id: str, *, actor: str, period: str | None = None) -> reports.Position:
        ctx = self.context(fund_id)
        if period is not None and period not in (*ctx.periods, "year-end"):
            raise ConfigError(f"period: {period!r} is not a month of fund {fund_id}'s year")
        with database.reading(self.engine) as connection:
            made = reports.fund_standing(connection, ctx)
            reports.reader(connection, ctx, self._reader(actor), made)
            return reports.position(connection, ctx, period, made)

    def decisions(self, fund_id: str, *, actor: str) -> pd.DataFrame:
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            reports.reader(connection, ctx, self._reader(actor))
            return reports.decisions(connection, ctx)

    def journal(self, fund_id: str, *, actor: str) -> pd.DataFrame:
        """Every entry with who posted it and under which request id (auditors and admins)."""
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            reader = reports.reader(connection, ctx, self._reader(actor))
            require_private_reader(reader, "see who posted")
            return reports.who_posted(connection, ctx)

    def quarterly_spend(self, fund_id: str, *, actor: str) -> pd.DataFrame:
        """Spend in pence by place, service, partner kind and financial quarter."""
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            reports.reader(connection, ctx, self._reader(actor))
            return reports.quarterly_spend(connection, ctx)

    def verify(
        self,
        fund_id: str,
        *,
        checkpoint: Checkpoint | None = None,
        public_key: Ed25519PublicKey | None = None,
    ) -> ChainCheck:
        """Check the fund's journal (:mod:`carepool.ledger.verification`); with a
        ``checkpoint``, also that it was signed by ``public_key`` (the fund's) and that the
        journal still holds the entries it signed."""
        ctx = self.context(fund_id)
        if checkpoint is not None:
            if public_key is None:
                raise ConfigError("a checkpoint is checked against the fund's public key")
            check_signature(checkpoint, public_key)
        with database.reading(self.engine) as connection:
            if checkpoint is not None:
                return verification.extends(connection, ctx, checkpoint)
            return verification.verify(connection, ctx)

    def checkpoint(self, fund_id: str, private_key: Ed25519PrivateKey) -> Checkpoint:
        """Sign the fund's journal head as it is now; refused if the journal does not verify."""
        check = self.verify(fund_id)
        if not check.ok:
            raise LedgerError(
                f"the journal of fund {fund_id} does not verify (first bad entry "
                f"{check.first_bad_entry}: {check.problem}); no checkpoint was signed"
            )
        return sign(private_key, fund_id, check.entries, check.digest, timestamp(self.clock()))

    def export(self, fund_id: str, path: Path, *, actor: str) -> ChainCheck:
        """Write the published journal (JSON Lines) to ``path``.

        The format and a standalone check are in docs/methods/ledger-journal.md.
        """
        ctx = self.context(fund_id)
        with database.reading(self.engine) as connection:
            reports.reader(connection, ctx, self._reader(actor))
            return verification.export(connection, ctx, path)


def migrate(url: str, *, schema: str | None = None) -> tuple[str | None, str | None]:
    """Bring the ledger database at ``url`` to the newest migration, as its owner; returns
    (the migration it was at, the one it is at now). Run by ``carepool db migrate``: never
    as a side effect of using the ledger."""
    engine = database.open_engine(url, schema=schema)
    try:
        before, _ = database.revisions(engine)
        database.migrate(engine)
        return before, database.revisions(engine)[0]
    finally:
        engine.dispose()
