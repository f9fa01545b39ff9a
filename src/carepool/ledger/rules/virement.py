"""Virement rules: moves between lines that need the board's approval, or are banned.

Examples: any virement of £1m or more needs approval; moving money out of one service into
another needs approval; moving money out of mental health is banned.
"""

from __future__ import annotations

from carepool.ledger.money import pounds
from carepool.ledger.rules.types import Breach, Change, FundState
from carepool.ledger.spec import ApprovalRule, Line


def _across(rule: ApprovalRule, source: Line, target: Line) -> bool:
    if rule.across == "service":
        return source.service != target.service
    if rule.across == "partner":
        return source.partner != target.partner
    if rule.across == "place":
        return source.place != target.place
    return True


def check(rule: ApprovalRule, change: Change, state: FundState) -> list[Breach]:
    source, target = change.from_line, change.to_line
    if change.operation != "virement" or source is None or target is None:
        return []
    if change.amount_pence < rule.min_pence or not _across(rule, source, target):
        return []
    from_ok = any(line.id == source.id for line in state.lines_in(rule.from_scope))
    to_ok = any(line.id == target.id for line in state.lines_in(rule.to_scope))
    if not (from_ok and to_ok):
        return []
    reason = (
        f"{rule.reason} ({pounds(change.amount_pence)} from {source.id} ({source.service}) "
        f"to {target.id} ({target.service}))"
    )
    return [Breach(rule.name, rule.action, reason, rule.approvers)]
