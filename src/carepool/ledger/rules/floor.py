"""Floors: the budget of a line, a service or any scope of lines may not fall below a sum.

Examples: mental health may not fall below last year's budget plus growth; the NHS's
contribution to adult social care may not fall below the Better Care Fund minimum. Only a
request that lowers the scope's budget (a virement out, a reversed allocation) can break a
floor, so a fund may be built up from nothing without tripping it.
"""

from __future__ import annotations

from carepool.ledger.records.money import pounds
from carepool.ledger.records.spec import FloorRule
from carepool.ledger.rules.types import Breach, Change, FundState


def check(rule: FloorRule, change: Change, state: FundState) -> list[Breach]:
    lines = [line.id for line in state.lines_in(rule.scope)]
    delta = sum(change.budget_delta.get(line, 0) for line in lines)
    if delta >= 0:
        return []
    after = state.budget_of(lines) + delta
    if after >= rule.floor_pence:
        return []
    reason = (
        f"{rule.reason} (the budget would fall to {pounds(after)}, below the floor of "
        f"{pounds(rule.floor_pence)})"
    )
    return [Breach(rule.name, rule.action, reason, rule.approvers)]
