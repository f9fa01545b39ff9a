"""Checking a published journal (``carepool ledger export``) with nothing but the file.

Anyone holding a copy — a resident, a scrutiny committee, a witness of the fund's
checkpoints — can confirm that it is a whole, unbroken chain and recompute its digest, to
compare with the one the fund reported; with a signed checkpoint and the fund's public key,
that it still holds every entry the checkpoint saw. No database is needed. The format is in
docs/methods/ledger-journal.md.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carepool.errors import LedgerError
from carepool.ledger.records.chain import GENESIS, ChainCheck, check_chain
from carepool.ledger.records.checkpoint import Checkpoint

FORMAT = "carepool-journal"
#: A published journal's longest line: an entry is a few kilobytes; a line beyond this is not
#: one the ledger wrote.
MAX_LINE_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class PublishedCheck:
    """What a published journal holds and whether it verifies."""

    fund: str
    year: str
    chain: ChainCheck


def _lines(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """The file's lines as JSON objects, numbered from 1, refusing what the ledger never
    writes (not a regular file, a line too long, a line that is not a JSON object)."""
    try:
        status = os.stat(path)
    except OSError as error:
        raise LedgerError(f"{path}: cannot read the journal ({error.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise LedgerError(f"{path}: not a regular file; expected an exported journal")
    with open(path, "rb") as handle:
        for number, raw in enumerate(iter(lambda: handle.readline(MAX_LINE_BYTES + 1), b""), 1):
            if len(raw) > MAX_LINE_BYTES:
                raise LedgerError(f"{path}, line {number}: longer than any entry the ledger writes")
            try:
                value = json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, ValueError, RecursionError):
                raise LedgerError(
                    f"{path}, line {number}: not a line of JSON; expected an exported journal "
                    "(carepool ledger export)"
                ) from None
            if not isinstance(value, dict):
                raise LedgerError(f"{path}, line {number}: expected a JSON object")
            yield number, value


def check_published(path: Path, checkpoint: Checkpoint | None = None) -> PublishedCheck:
    """Recompute a published journal's chain and digest; with ``checkpoint`` (its signature
    checked by the caller), also that the journal holds the entry the checkpoint signed.

    The chain's result names the first entry that fails, as :func:`check_chain` does, and a
    trailer that disagrees with the entries (a journal cut short and re-totalled by hand, or
    lines added after it) fails too.
    """
    lines = _lines(path)
    first = next(lines, None)
    if first is None or first[1].get("format") != FORMAT:
        raise LedgerError(f"{path}: not an exported journal (its first line has no format)")
    header = first[1]
    if header.get("genesis") != GENESIS:
        raise LedgerError(f"{path}: the header's genesis is not the ledger's")
    fund = str(header.get("fund"))
    if checkpoint is not None and checkpoint.fund != fund:
        raise LedgerError(f"the checkpoint is of fund {checkpoint.fund}, not of fund {fund}")
    at = checkpoint.entries if checkpoint is not None else None
    # streamed, not held: a published journal can be far larger than memory should hold
    found: dict[str, Any] = {"trailer": None, "head": None}

    def entries() -> Iterator[tuple[dict[str, Any], str, str]]:
        count = 0
        for number, value in lines:
            if found["trailer"] is not None:
                raise LedgerError(f"{path}, line {number}: a line after the journal's last")
            if "seq" not in value:
                found["trailer"] = value
                continue
            content = {k: v for k, v in value.items() if k not in ("prev_hash", "hash")}
            if not isinstance(content.get("postings"), list) or not isinstance(content["seq"], int):
                raise LedgerError(f"{path}, line {number}: not an entry of the journal")
            count += 1
            if count == at:
                found["head"] = str(value.get("hash"))
            yield content, str(value.get("prev_hash")), str(value.get("hash"))

    chain = check_chain(entries())
    trailer = found["trailer"]
    if trailer is None:
        raise LedgerError(f"{path}: the journal has no last line with its digest; cut short?")
    if chain.ok and trailer != {"entries": chain.entries, "digest": chain.digest}:
        chain = ChainCheck(
            False,
            chain.entries,
            chain.entries,
            chain.digest,
            f"the last line says {trailer.get('entries')} entries with digest "
            f"{trailer.get('digest')}; the entries give {chain.entries} and {chain.digest}",
        )
    if checkpoint is not None and at is not None:
        problem = None
        if found["head"] is None:
            problem = (
                f"the checkpoint of {checkpoint.time} saw {at} entries; the journal has "
                f"{chain.entries}: it was cut short"
            )
        elif found["head"] != checkpoint.head:
            problem = (
                f"it is not the entry the checkpoint of {checkpoint.time} signed: the journal "
                "was rewritten at or before it"
            )
        if problem is not None and (chain.ok or (chain.first_bad_entry or 0) > at):
            chain = ChainCheck(False, chain.entries, at, chain.digest, problem)
    return PublishedCheck(fund, str(header.get("year")), chain)
