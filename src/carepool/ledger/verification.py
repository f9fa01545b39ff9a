"""Checking a fund's journal, and publishing it.

``verify`` answers one question: is every entry in the ledger what the fund's rules made of
a request its user sent, unchanged since? It checks, and names the first entry that fails:

* the hash chain (each entry's content and its link to the one before);
* that every posting belongs to an entry (the chain covers the postings of each entry);
* the fund's stored registries against the specification its opening entry records;
* each month's close against the postings of its month;
* the replay (:mod:`carepool.ledger.replay`): every recorded request posted again under
  the rules, users and periods in force when it was posted makes the same entry.

What none of this can catch — a whole journal rewritten, or cut short, by someone able to
recompute every hash — is caught by checkpoints signed outside the database
(:mod:`carepool.ledger.records.checkpoint`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from carepool.errors import LedgerError
from carepool.ledger.records.chain import (
    GENESIS,
    ChainCheck,
    canonical,
    check_chain,
    private_digest,
    public_content,
)
from carepool.ledger.records.checkpoint import Checkpoint
from carepool.ledger.records.fund import FundContext
from carepool.ledger.replay import replay
from carepool.ledger.store.schema import funds, journal, lines, postings, rules
from carepool.ledger.store.writer import TOTAL_KEYS, sorted_totals


def _entries(connection: Connection, fund_id: str) -> Iterator[tuple[dict[str, Any], str, str]]:
    """Each entry's public content with its stored links, in order, streamed."""
    streamed = connection.execution_options(stream_results=True, yield_per=5000)
    entry_rows = streamed.execute(
        select(journal).where(journal.c.fund_id == fund_id).order_by(journal.c.seq)
    )
    posting_rows = streamed.execute(
        select(
            postings.c.seq,
            postings.c.no,
            postings.c.period,
            postings.c.account,
            postings.c.line_id,
            postings.c.partner_id,
            postings.c.category,
            postings.c.amount_pence,
        )
        .where(postings.c.fund_id == fund_id)
        .order_by(postings.c.seq, postings.c.no)
    )
    pending = next(posting_rows, None)
    for row in entry_rows:
        entry_postings = []
        while pending is not None and pending[0] < row.seq:
            pending = next(posting_rows, None)  # postings of no entry: caught by the chain
        while pending is not None and pending[0] == row.seq:
            entry_postings.append(
                [
                    pending[1],
                    pending[2],
                    pending[3],
                    pending[4],
                    pending[5],
                    pending[6],
                    int(pending[7]),
                ]
            )
            pending = next(posting_rows, None)
        try:
            payload = json.loads(row.payload)
        except (ValueError, RecursionError):  # not the ledger's: its hash will not match
            payload = row.payload
        content = public_content(
            fund=row.fund_id,
            seq=int(row.seq),
            kind=row.kind,
            period=row.period,
            posted_at=row.posted_at,
            description=row.description,
            ref_seq=row.ref_seq,
            payload=payload,
            postings=entry_postings,
            private=private_digest(row.actor, row.request_id, row.request_digest, row.salt),
        )
        yield content, row.prev_hash, row.hash


def verify(connection: Connection, ctx: FundContext) -> ChainCheck:
    """Check the fund's journal every way the module describes; the first entry that fails.

    Every check runs; the earliest entry any of them names is the one reported.
    """
    check = check_chain(_entries(connection, ctx.id))
    findings: list[tuple[int, str]] = []
    if not check.ok:
        findings.append((check.first_bad_entry or 0, check.problem or "it does not verify"))
    problem = _registry_problem(connection, ctx)
    if problem:
        findings.append((1, problem))
    orphan = _orphan_problem(connection, ctx.id)
    if orphan is not None:
        findings.append(orphan)
    bad_close = _close_problem(connection, ctx)
    if bad_close is not None:
        findings.append((bad_close, "its period totals do not match the postings of its period"))
    replayed = replay(connection, ctx)  # always: it may name an earlier entry than the rest
    if replayed is not None:
        findings.append((replayed.seq, replayed.problem))
    if not findings:
        return check
    seq, why = min(findings, key=lambda finding: finding[0])
    return ChainCheck(False, check.entries, seq, check.digest, why)


def extends(connection: Connection, ctx: FundContext, checkpoint: Checkpoint) -> ChainCheck:
    """:func:`verify`, and that the journal still holds the entries ``checkpoint`` signed:
    entry ``checkpoint.entries`` exists and has the signed hash. (The signature is checked
    by the caller, who holds the fund's public key.)"""
    if checkpoint.fund != ctx.id:
        raise LedgerError(f"the checkpoint is of fund {checkpoint.fund}, not of fund {ctx.id}")
    check = verify(connection, ctx)
    at = checkpoint.entries
    stored = connection.execute(
        select(journal.c.hash).where(journal.c.fund_id == ctx.id, journal.c.seq == at)
    ).scalar()
    problem = None
    if stored is None:
        problem = (
            f"the checkpoint of {checkpoint.time} saw {at} entries; the journal now has "
            f"{check.entries}: it was cut short"
        )
    elif stored != checkpoint.head:
        problem = (
            f"it is not the entry the checkpoint of {checkpoint.time} signed: the journal "
            "was rewritten at or before it"
        )
    if problem is None or (not check.ok and (check.first_bad_entry or 0) <= at):
        return check
    return ChainCheck(False, check.entries, at, check.digest, problem)


def _orphan_problem(connection: Connection, fund_id: str) -> tuple[int, str] | None:
    """Postings that belong to no entry of the fund (possible where foreign keys can be
    switched off, as in SQLite): they would change balances without touching the chain."""
    entry = select(journal.c.seq).where(
        journal.c.fund_id == fund_id, journal.c.seq == postings.c.seq
    )
    seq = connection.execute(
        select(func.min(postings.c.seq)).where(postings.c.fund_id == fund_id, ~entry.exists())
    ).scalar()
    if seq is None:
        return None
    return int(seq), "postings with its number belong to no entry of the journal"


def _close_problem(connection: Connection, ctx: FundContext) -> int | None:
    """The first close entry whose totals differ from its period's postings, or None."""
    recomputed: dict[str, list[list[Any]]] = {}
    rows = connection.execute(
        select(postings.c.period, *TOTAL_KEYS, func.sum(postings.c.amount_pence), func.count())
        .where(postings.c.fund_id == ctx.id)
        .group_by(postings.c.period, *TOTAL_KEYS)
    )
    for period, *rest in rows:
        recomputed.setdefault(period, []).append([*rest[:4], int(rest[4]), int(rest[5])])
    closes = connection.execute(
        select(journal.c.seq, journal.c.period, journal.c.payload)
        .where(journal.c.kind == "close", journal.c.fund_id == ctx.id)
        .order_by(journal.c.seq)
    )
    for seq, period, payload in closes:
        try:
            totals = json.loads(payload).get("totals")
        except (ValueError, RecursionError, AttributeError):
            return int(seq)
        if totals is not None and totals != sorted_totals(recomputed.get(period, [])):
            return int(seq)
    return None


def _registry_problem(connection: Connection, ctx: FundContext) -> str | None:
    opening = connection.execute(
        select(journal.c.payload).where(journal.c.fund_id == ctx.id, journal.c.seq == 1)
    ).scalar()
    stored = connection.execute(select(funds.c.spec).where(funds.c.id == ctx.id)).scalar()
    try:
        spec = json.loads(opening)["spec"] if opening else None
    except (ValueError, KeyError, TypeError, RecursionError):
        return "its opening entry does not hold the fund's specification"
    if spec is None or stored is None or canonical(spec) != stored:
        return "the fund's stored specification differs from its opening entry"
    line_rows = {
        (r.id, r.service, r.place, r.partner_id)
        for r in connection.execute(select(lines).where(lines.c.fund_id == ctx.id))
    }
    expected = {(x["id"], x["service"], x["place"], x["partner"]) for x in spec["lines"]}
    if line_rows != expected:
        return "the fund's lines differ from its opening entry"
    try:
        rule_rows = {
            r.name: json.loads(r.spec)
            for r in connection.execute(select(rules).where(rules.c.fund_id == ctx.id))
        }
    except (ValueError, RecursionError):
        return "the fund's rules differ from its opening entry"
    if rule_rows != {r["name"]: r for r in spec["rules"]}:
        return "the fund's rules differ from its opening entry"
    return None


def export(connection: Connection, ctx: FundContext, path: Path) -> ChainCheck:
    """Write the published journal as JSON Lines: a header, one line per entry, the digest.

    Refuses (writing nothing) when the chain does not verify. The file is written beside
    ``path`` and moved into place, so a reader never sees half of it.
    """
    check = verify(connection, ctx)
    if not check.ok:
        raise LedgerError(
            f"the journal of fund {ctx.id} does not verify (first bad entry "
            f"{check.first_bad_entry}: {check.problem}); nothing was exported"
        )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            header = {
                "format": "carepool-journal",
                "version": 1,
                "fund": ctx.id,
                "year": ctx.spec.fund.year,
                "genesis": GENESIS,
                "hash": "sha256(prev_hash + canonical_json(entry without prev_hash and hash))",
            }
            out.write(canonical(header) + "\n")
            for content, prev_hash, digest in _entries(connection, ctx.id):
                out.write(canonical({**content, "prev_hash": prev_hash, "hash": digest}) + "\n")
            out.write(canonical({"entries": check.entries, "digest": check.digest}) + "\n")
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return check
