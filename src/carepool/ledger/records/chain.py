"""The hash chain that makes the journal tamper-evident.

Each entry's hash is ``sha256(previous hash + canonical JSON of the entry's public content)``;
the first entry follows 64 zeros. Canonical JSON: keys sorted, no spaces, UTF-8. The public
content holds everything about the entry except who posted it and the request id, which are
replaced by ``private`` — a salted sha256 of those details — so the published journal can be
recomputed by anyone while the names stay with the auditors. Each entry has its own random
256-bit salt, kept in the ledger's private columns: without it, nobody can test a guess of
who posted (the user names and request ids are few and guessable; the salt is not). The
chain's digest is the last entry's hash. The recipe, with a standalone checker, is in
docs/methods/ledger-journal.md.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Final

GENESIS: Final = "0" * 64


def canonical(value: Any) -> str:
    """The one JSON text for ``value``: sorted keys, compact separators, UTF-8."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def new_salt() -> str:
    """A fresh salt for one entry's private commitment: 32 random bytes, as hex."""
    return secrets.token_hex(32)


def private_digest(actor: str, request_id: str, request_digest: str, salt: str | None) -> str:
    """The commitment to an entry's private details (who posted it, under which request).

    Salted, so that it reveals nothing to someone who can list every user and guess the
    request ids. ``salt=None`` is the unsalted form of entries written before salts were
    kept (ledger migration 0002); they are checked as they were written.
    """
    if salt is None:
        return sha256(canonical([actor, request_id, request_digest]))
    return sha256(canonical([salt, actor, request_id, request_digest]))


def public_content(
    *,
    fund: str,
    seq: int,
    kind: str,
    period: str,
    posted_at: str,
    description: str,
    ref_seq: int | None,
    payload: Any,
    postings: Sequence[Sequence[Any]],
    private: str,
) -> dict[str, Any]:
    """An entry as published: the object that is hashed."""
    return {
        "fund": fund,
        "seq": seq,
        "kind": kind,
        "period": period,
        "posted_at": posted_at,
        "description": description,
        "ref_seq": ref_seq,
        "payload": payload,
        "postings": [list(p) for p in postings],
        "private": private,
    }


def entry_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return sha256(prev_hash + canonical(content))


@dataclass(frozen=True)
class ChainCheck:
    """The result of recomputing a chain."""

    ok: bool
    entries: int
    first_bad_entry: int | None
    digest: str
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_bad_entry": self.first_bad_entry,
            "digest": self.digest,
            "problem": self.problem,
        }


def check_chain(rows: Iterable[tuple[dict[str, Any], str, str]]) -> ChainCheck:
    """Recompute a chain from ``(public content, stored prev_hash, stored hash)`` in seq order.

    Names the first entry whose sequence number, link or hash does not match; the digest is
    the recomputed hash of the last entry (over the stored content, as found).
    """
    prev = GENESIS
    count = 0
    first_bad: int | None = None
    problem: str | None = None
    for content, stored_prev, stored_hash in rows:
        count += 1
        seq = content["seq"]
        if first_bad is None:
            if seq != count:
                first_bad, problem = seq, f"expected entry {count}, found entry {seq}"
            elif stored_prev != prev:
                first_bad, problem = seq, "its link to the entry before does not match"
            elif sum(p[-1] for p in content["postings"]) != 0:
                first_bad, problem = seq, "its postings do not balance"
        recomputed = entry_hash(prev, content)
        if first_bad is None and recomputed != stored_hash:
            first_bad, problem = seq, "its content does not match its hash"
        prev = recomputed
    return ChainCheck(first_bad is None, count, first_bad, prev, problem)
