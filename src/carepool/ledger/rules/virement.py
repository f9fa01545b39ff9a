"""Virement rules: moves between lines that need the board's approval, or are banned.

Examples: any virement of £1m or more needs approval; moving money out of one service into
another needs approval; moving money out of mental health is banned.

The threshold counts what the line has already given in the fund's year so far, whoever
asked and in whichever month, so a large move cannot pass as several small ones, nor as
small ones spread over the months. (A fund's year is its whole life, so the window is the
year: no move escapes it by waiting.) A reversal that takes budget out of a line is checked as a
move to an unknown line (it could be re-allocated anywhere): it crosses every boundary.
"""

from __future__ import annotations

from carepool.ledger.records.money import pounds
from carepool.ledger.records.spec import ApprovalRule, Line
from carepool.ledger.rules.types import Breach, Change, FundState


def _across(rule: ApprovalRule, source: Line, target: Line | None) -> bool:
    if target is None:
        return True
    if rule.across == "service":
        return source.service != target.service
    if rule.across == "partner":
        return source.partner != target.partner
    if rule.across == "place":
        return source.place != target.place
    return True


def check(rule: ApprovalRule, change: Change, state: FundState) -> list[Breach]:
    source, target = change.from_line, change.to_line
    if change.operation not in ("virement", "reversal") or source is None:
        return []
    if not _across(rule, source, target):
        return []
    if rule.min_pence:
        so_far = change.amount_pence + state.moved_out(source.id, change.period)
        if so_far < rule.min_pence:
            return []
    from_ok = any(line.id == source.id for line in state.lines_in(rule.from_scope))
    to_ok = target is None or any(line.id == target.id for line in state.lines_in(rule.to_scope))
    if not (from_ok and to_ok):
        return []
    where = "an unknown line" if target is None else f"{target.id} ({target.service})"
    amount = pounds(change.amount_pence)
    reason = f"{rule.reason} ({amount} from {source.id} ({source.service}) to {where})"
    return [Breach(rule.name, rule.action, reason, rule.approvers)]
