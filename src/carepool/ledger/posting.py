"""Writing one request's entries in a write transaction: the one path every posting takes.

:class:`carepool.ledger.Ledger` posts through it, and so does ``verify`` when it posts the
journal's recorded requests again into a scratch ledger to prove that each entry is what
the rules made of its request.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import Connection

from carepool.errors import LedgerError, PermissionDenied
from carepool.ledger.operations import build
from carepool.ledger.records.chain import canonical
from carepool.ledger.records.entries import Entry, Receipt
from carepool.ledger.records.fund import FundContext
from carepool.ledger.records.spec import FundSpec
from carepool.ledger.requests import LedgerRequest
from carepool.ledger.store.registries import write_registries
from carepool.ledger.store.writer import Clock, Known, Salts, Tx


def require_opener(spec: FundSpec, actor: str) -> None:
    """Only an admin user of a fund's own specification opens it."""
    admin = next((u for u in spec.users if u.name == actor), None)
    if admin is None or "admin" not in admin.roles:
        raise PermissionDenied(f"{actor!r} is not an admin user of fund {spec.fund.id}")


def open_entry(
    connection: Connection,
    spec: FundSpec,
    actor: str,
    request_id: str,
    digest: str,
    *,
    clock: Clock,
    salts: Salts,
) -> Receipt:
    """Write a new fund's registries and its opening entry, which records its specification."""
    require_opener(spec, actor)
    spec_json = spec.model_dump(mode="json")
    write_registries(connection, spec, spec_json)
    tx = Tx(connection, FundContext(spec), clock, salts=salts)
    entry = Entry(
        "open",
        spec.periods()[0],
        f"Fund opened: {spec.fund.name} ({spec.fund.year})",
        (),
        {"spec": spec_json},
    )
    recorded = canonical({"operation": "open", "fields": {"spec": spec_json}})
    receipt = tx.append(entry, actor, request_id, digest, recorded)
    tx.flush()
    return receipt


def apply(tx: Tx, request: LedgerRequest, digest: str) -> Receipt:
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
    entries: list[Entry] = build(tx, user, request.parse())
    tx.admit(entries)  # the fund's limit on money moved, before anything of it is appended
    first = None
    for n, entry in enumerate(entries):
        request_id = request.request_id if n == 0 else f"{request.request_id}#{n + 1}"
        recorded = request.recorded() if n == 0 else None
        receipt = tx.append(entry, request.actor, request_id, digest, recorded)
        first = first or receipt
    assert first is not None
    tx.known[request.request_id] = Known(digest, replace(first, replayed=True))
    return first
