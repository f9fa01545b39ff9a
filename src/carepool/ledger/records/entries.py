"""Journal entries and their postings: immutable records that check themselves when built.

An :class:`Entry` is what an operation wants written; its postings must balance (sum to
zero pence). Debits are positive, credits negative. The accounts:

==================  =========================================================================
``pool``            the fund's unallocated money
``contrib``         a partner's contributions (credit balance); per partner
``line``            a budget line's money not yet spent or committed; per line
``spend``           actual spend on a line (debit balance)
``commit``          a line's outstanding commitments (orders placed, not yet paid)
``forecast``        a line's forecast outturn, a memorandum pair with ``forecast_offset``
==================  =========================================================================

So ``contrib`` credits always equal ``pool + line + commit + spend`` debits: what partners put
in is either unallocated, available on a line, committed or spent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from carepool.errors import LedgerError

ACCOUNTS: Final = ("pool", "contrib", "line", "spend", "commit", "forecast", "forecast_offset")
LINE_ACCOUNTS: Final = frozenset({"line", "spend", "commit", "forecast", "forecast_offset"})
CATEGORIES: Final = (
    "contribution",
    "budget",
    "spend",
    "commitment",
    "forecast",
    "settlement",
)
#: Kinds of journal entry. ``hold`` records a request waiting for approval; ``decision``
#: records the board's decision on it; ``user`` records a change to who may use the fund;
#: none of the three moves money.
KINDS: Final = (
    "open",
    "contribution",
    "allocation",
    "spend",
    "commitment",
    "virement",
    "forecast",
    "reversal",
    "hold",
    "decision",
    "close",
    "settlement",
    "user",
)


@dataclass(frozen=True)
class Posting:
    """One side of a movement: ``amount_pence`` (debit > 0, credit < 0) on one account."""

    account: str
    amount_pence: int
    category: str
    line: str | None = None
    partner: str | None = None

    def __post_init__(self) -> None:
        if self.account not in ACCOUNTS:
            raise LedgerError(f"unknown account {self.account!r}")
        if self.category not in CATEGORIES:
            raise LedgerError(f"unknown category {self.category!r}")
        if isinstance(self.amount_pence, bool) or not isinstance(self.amount_pence, int):
            raise LedgerError(f"a posting's amount must be whole pence, got {self.amount_pence!r}")
        if self.amount_pence == 0:
            raise LedgerError("a posting of zero pence records nothing")
        needs = "needs" if self.line is None else "takes no"
        if (self.account in LINE_ACCOUNTS) != (self.line is not None):
            raise LedgerError(f"account {self.account!r} {needs} line")
        if (self.account == "contrib") != (self.partner is not None):
            raise LedgerError(
                f"account {self.account!r} cannot take partner {self.partner!r}"
                if self.partner
                else f"account {self.account!r} needs a partner"
            )

    def row(self) -> list[Any]:
        return [self.account, self.line, self.partner, self.category, self.amount_pence]


@dataclass(frozen=True)
class Entry:
    """A balanced journal entry waiting to be chained and written."""

    kind: str
    period: str
    description: str
    postings: tuple[Posting, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)
    ref_seq: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise LedgerError(f"unknown kind of entry {self.kind!r}")
        total = sum(p.amount_pence for p in self.postings)
        if total != 0:
            raise LedgerError(
                f"unbalanced {self.kind} entry: postings sum to {total} pence, not zero"
            )


@dataclass(frozen=True)
class Receipt:
    """What a request got: the entry that records it, and whether it was posted or held."""

    fund: str
    seq: int
    kind: str
    status: str  # "posted", "held", "decided"
    request_id: str
    hash: str
    replayed: bool = False
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "fund": self.fund,
            "seq": self.seq,
            "kind": self.kind,
            "status": self.status,
            "request_id": self.request_id,
            "hash": self.hash,
            "replayed": self.replayed,
            **self.detail,
        }
