"""What every rule check receives and returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from carepool.ledger.records.spec import Line, Scope


@dataclass(frozen=True)
class Change:
    """What a request would do, in the terms rules need.

    ``budget_delta``: the change in each line's budget (allocations, virements, reversals);
    ``from_line``/``to_line`` and ``amount_pence`` describe a virement.
    """

    operation: str
    budget_delta: dict[str, int] = field(default_factory=dict)
    amount_pence: int = 0
    from_line: Line | None = None
    to_line: Line | None = None  # None: the money leaves for an unknown line (a reversal)
    period: str = ""


@dataclass(frozen=True)
class Breach:
    """A rule the request would break, and what the rule says to do about it."""

    rule: str
    action: str  # "refuse" or "hold"
    reason: str
    approvers: int = 1

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "action": self.action,
            "reason": self.reason,
            "approvers": self.approvers,
        }


class FundState(Protocol):
    """Questions about the fund as it stands, answered from the ledger's postings."""

    def lines_in(self, scope: Scope) -> list[Line]: ...

    def budget_of(self, line_ids: list[str]) -> int: ...

    def moved_out(self, line_id: str, period: str) -> int:
        """Budget already moved out of a line (virements, reversed allocations) in the fund's
        year, every month up to and including ``period``."""
        ...
