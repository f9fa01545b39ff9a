"""What each kind of request writes: one small builder per operation.

A builder receives the open transaction (:class:`~carepool.ledger.store.writer.Tx`), the user
and the typed request (:mod:`carepool.ledger.requests`, whose fields checked themselves when
it was built); it checks what needs the fund — its lines and partners, the user's role, the
period, the fund's rules — and returns the entries to write, or raises, and then nothing is
written. Builders never write themselves: the caller chains and inserts what they return.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from carepool.errors import LedgerError, PermissionDenied, RuleRefused
from carepool.ledger.records.entries import Entry, Posting
from carepool.ledger.records.fund import YEAR_END
from carepool.ledger.records.money import pounds, split_pence
from carepool.ledger.records.roles import require_finance_of, require_role
from carepool.ledger.records.spec import User
from carepool.ledger.requests import (
    Allocate,
    Approve,
    ChangeUser,
    ClosePeriod,
    Commit,
    Contribute,
    Forecast,
    Operation,
    Reverse,
    Settle,
    Spend,
    Virement,
)
from carepool.ledger.riskshare import settlement_shares
from carepool.ledger.rules import Breach, Change, check_all
from carepool.ledger.store.writer import Tx, totals_of

Builder = Callable[[Tx, User, Any], list[Entry]]

#: Entries that move money and so may be reversed.
REVERSIBLE = ("contribution", "allocation", "spend", "commitment", "virement")


def period_for(tx: Tx, period: str | None) -> str:
    """The period to post into: ``period`` if it is open, else the first open one."""
    closed = tx.closed_periods()
    if YEAR_END in closed:
        raise LedgerError(f"fund {tx.ctx.id} is settled; nothing more can be posted to it")
    periods = tx.ctx.periods
    open_periods = [p for p in periods if p not in closed]
    if not open_periods:
        raise LedgerError(f"every period of fund {tx.ctx.id} is closed; only settlement is left")
    if period is None:
        return open_periods[0]
    if period not in periods:
        raise LedgerError(
            f"period: {period!r} is not a month of the fund's year {tx.ctx.spec.fund.year} "
            f"({periods[0]} to {periods[-1]})"
        )
    if period in closed:
        raise LedgerError(f"period {period} is closed; the first open period is {open_periods[0]}")
    return period


def _refuse_or_hold(breaches: list[Breach], waived: frozenset[str]) -> list[Breach]:
    """Raise for a refusing breach; return the holds that have not been approved already."""
    refusals = [b for b in breaches if b.action == "refuse"]
    if refusals:
        raise RuleRefused(refusals[0].rule, "; ".join(b.reason for b in refusals))
    return [b for b in breaches if b.rule not in waived]


def contribute(tx: Tx, user: User, request: Contribute) -> list[Entry]:
    partner = tx.ctx.partner(request.partner)
    amount = request.amount_pence
    require_finance_of(user, [partner], f"record a contribution from {partner}")
    period = period_for(tx, request.period)
    postings = (
        Posting("pool", amount, "contribution"),
        Posting("contrib", -amount, "contribution", partner=partner),
    )
    description = request.description or f"Contribution from {partner}"
    return [
        Entry(
            "contribution",
            period,
            description,
            postings,
            {"partner": partner, "amount_pence": amount},
        )
    ]


def allocate_budget(tx: Tx, user: User, request: Allocate) -> list[Entry]:
    period = period_for(tx, request.period)
    budget: dict[str, int] = {}
    for i, (line_id, amount) in enumerate(request.allocations):
        line = tx.ctx.line(line_id, f"allocations[{i}].line")
        # a pooled fund's manager (the host) allocates; in an aligned budget, each partner too
        allocators = [tx.ctx.host, *([line.partner] if tx.ctx.spec.fund.kind == "aligned" else [])]
        require_finance_of(user, allocators, f"allocate to line {line.id}")
        budget[line.id] = budget.get(line.id, 0) + amount
    total = sum(budget.values())
    unallocated = tx.balance("pool")
    if total > unallocated:
        raise LedgerError(
            f"the allocation of {pounds(total)} exceeds the fund's unallocated "
            f"{pounds(unallocated)}; record contributions first"
        )
    _refuse_or_hold(check_all(tx.ctx.spec.rules, Change("allocation", budget), tx), frozenset())
    postings = tuple(
        Posting("line", amount, "budget", line=line) for line, amount in budget.items()
    )
    postings += (Posting("pool", -total, "budget"),)
    description = request.description or f"Allocation to {len(budget)} line(s)"
    payload = {"allocations": [[line, amount] for line, amount in budget.items()]}
    return [Entry("allocation", period, description, postings, payload)]


def spend(tx: Tx, user: User, request: Spend) -> list[Entry]:
    line = tx.ctx.line(request.line)
    amount = request.amount_pence
    require_finance_of(user, [line.partner], f"record spend on line {line.id}")
    period = period_for(tx, request.period)
    postings = [
        Posting("spend", amount, "spend", line=line.id),
        Posting("line", -amount, "spend", line=line.id),
    ]
    ref = request.commitment
    payload: dict[str, Any] = {"line": line.id, "amount_pence": amount}
    if ref is not None:
        outstanding = _outstanding_commitment(tx, ref, line.id)
        release = min(amount, outstanding)
        postings += [
            Posting("line", release, "commitment", line=line.id),
            Posting("commit", -release, "commitment", line=line.id),
        ]
        payload["released_pence"] = release
    description = request.description or f"Spend on {line.id}"
    return [Entry("spend", period, description, tuple(postings), payload, ref)]


def _outstanding_commitment(tx: Tx, ref: int, line_id: str) -> int:
    entry = tx.entry(ref)
    if entry is None or entry["kind"] != "commitment":
        raise LedgerError(f"commitment: entry {ref} is not a commitment")
    if entry["payload"].get("line") != line_id:
        raise LedgerError(f"commitment: entry {ref} is a commitment on another line")
    outstanding = tx.ref_balance(ref, "commit")
    if outstanding <= 0:
        raise LedgerError(f"commitment: entry {ref} has nothing outstanding")
    return outstanding


def commit(tx: Tx, user: User, request: Commit) -> list[Entry]:
    line = tx.ctx.line(request.line)
    amount = request.amount_pence
    require_finance_of(user, [line.partner], f"record a commitment on line {line.id}")
    period = period_for(tx, request.period)
    postings = (
        Posting("commit", amount, "commitment", line=line.id),
        Posting("line", -amount, "commitment", line=line.id),
    )
    description = request.description or f"Commitment on {line.id}"
    return [
        Entry(
            "commitment", period, description, postings, {"line": line.id, "amount_pence": amount}
        )
    ]


def virement(
    tx: Tx, user: User, request: Virement, waived: frozenset[str] = frozenset()
) -> list[Entry]:
    source = tx.ctx.line(request.from_line, "from_line")
    target = tx.ctx.line(request.to_line, "to_line")
    amount, reason = request.amount_pence, request.reason
    require_finance_of(user, [tx.ctx.host, source.partner], f"vire money out of line {source.id}")
    period = period_for(tx, request.period)
    available = tx.balance("line", line=source.id)
    if amount > available:
        raise LedgerError(
            f"line {source.id} has {pounds(available)} not spent or committed; "
            f"it cannot give {pounds(amount)}"
        )
    change = Change(
        "virement", {source.id: -amount, target.id: amount}, amount, source, target, period
    )
    holds = _refuse_or_hold(check_all(tx.ctx.spec.rules, change, tx), waived)
    payload = {
        "from_line": source.id,
        "to_line": target.id,
        "amount_pence": amount,
        "reason": reason,
    }
    if holds:
        hold = {
            "operation": "virement",
            "request": {**payload, "period": period},
            "rules": [b.as_dict() for b in holds],
            "approvers_required": max(b.approvers for b in holds),
        }
        description = (
            f"Held for approval: virement of {pounds(amount)} from {source.id} to {target.id}"
        )
        return [Entry("hold", period, description, (), hold)]
    postings = (
        Posting("line", amount, "budget", line=target.id),
        Posting("line", -amount, "budget", line=source.id),
    )
    description = f"Virement of {pounds(amount)} from {source.id} to {target.id}: {reason}"
    return [Entry("virement", period, description, postings, payload)]


def approve(tx: Tx, user: User, request: Approve) -> list[Entry]:
    require_role(user, "board", "decide on held requests")
    hold_seq = request.hold
    held = tx.entry(hold_seq)
    if held is None or held["kind"] != "hold":
        raise LedgerError(f"hold: entry {hold_seq} is not a request held for approval")
    decisions = tx.referring(hold_seq, ["decision"])
    final = [d for d in decisions if d["payload"]["outcome"] in ("approved", "rejected")]
    if final:
        raise LedgerError(
            f"hold {hold_seq} was already {final[0]['payload']['outcome']} "
            f"(entry {final[0]['seq']})"
        )
    if held["actor"] == user.name:
        raise PermissionDenied(f"user {user.name!r} made request {hold_seq} and may not decide it")
    approvals = [d["payload"]["approver"] for d in decisions]
    if user.name in approvals:
        raise PermissionDenied(f"user {user.name!r} has already approved request {hold_seq}")
    reason, approved = request.reason, request.approve
    approvals.append(user.name)
    required = int(held["payload"]["approvers_required"])
    if not approved:
        outcome = "rejected"
    else:
        outcome = "approved" if len(approvals) >= required else "approval"
    payload = {
        "hold_seq": hold_seq,
        "subject": held["description"],
        "outcome": outcome,
        "approver": user.name,
        "approvals": approvals,
        "required": required,
        "reason": reason,
        "posted": outcome == "approved",
    }
    period = period_for(tx, None)
    verb = {"approved": "Approved", "rejected": "Rejected", "approval": "Approval recorded for"}
    decision = Entry(
        "decision", period, f"{verb[outcome]}: {held['description']}", (), payload, hold_seq
    )
    if outcome != "approved":
        return [decision]
    held_request = Virement.from_fields({**held["payload"]["request"], "period": period})
    waived = frozenset(rule["rule"] for rule in held["payload"]["rules"])
    try:
        requester = tx.user(str(held["actor"]))  # with the rights they have now
    except PermissionDenied:
        raise PermissionDenied(
            f"the request's maker {held['actor']!r} no longer has access to fund {tx.ctx.id}, "
            "so it cannot be approved; the board may reject it"
        ) from None
    posted = virement(tx, requester, held_request, waived)
    if posted[0].kind != "virement":
        raise LedgerError(f"request {hold_seq} now breaks other rules and needs a new request")
    entry = posted[0]
    approved_entry = Entry(
        entry.kind, entry.period, entry.description, entry.postings, entry.payload, hold_seq
    )
    return [decision, approved_entry]


def forecast(tx: Tx, user: User, request: Forecast) -> list[Entry]:
    line = tx.ctx.line(request.line)
    outturn = request.outturn_pence
    require_finance_of(user, [line.partner], f"forecast line {line.id}")
    period = period_for(tx, request.period)
    delta = outturn - tx.balance("forecast", line=line.id)
    postings: tuple[Posting, ...] = ()
    if delta:
        postings = (
            Posting("forecast", delta, "forecast", line=line.id),
            Posting("forecast_offset", -delta, "forecast", line=line.id),
        )
    description = f"Forecast outturn for {line.id}: {pounds(outturn)}"
    return [
        Entry(
            "forecast", period, description, postings, {"line": line.id, "outturn_pence": outturn}
        )
    ]


def reverse(tx: Tx, user: User, request: Reverse) -> list[Entry]:
    seq, reason = request.entry, request.reason
    original = tx.entry(seq)
    if original is None:
        raise LedgerError(f"entry: fund {tx.ctx.id} has no entry {seq}")
    if original["kind"] not in REVERSIBLE:
        raise LedgerError(f"entry {seq} is a {original['kind']} entry, which cannot be reversed")
    if tx.referring(seq, ["reversal"]):
        raise LedgerError(f"entry {seq} has already been reversed")
    period = period_for(tx, request.period)
    postings = tuple(
        Posting(p["account"], -int(p["amount_pence"]), p["category"], p["line_id"], p["partner_id"])
        for p in original["postings"]
    )
    require_finance_of(user, _reversers(tx, postings), f"reverse entry {seq}")
    _check_reversal_leaves_money(tx, postings, seq)
    budget: dict[str, int] = {}
    for p in postings:
        if p.account == "line" and p.category == "budget" and p.line is not None:
            budget[p.line] = budget.get(p.line, 0) + p.amount_pence
    breaches = check_all(tx.ctx.spec.rules, Change("reversal", budget, period=period), tx)
    for line_id, delta in budget.items():
        if delta < 0:  # budget leaving a line for the pool, and so for anywhere
            change = Change("reversal", {}, -delta, tx.ctx.lines[line_id], None, period)
            breaches += check_all(tx.ctx.spec.rules, change, tx)
    if breaches:
        reasons = "; ".join(b.reason for b in breaches)
        raise RuleRefused(
            breaches[0].rule,
            f"{reasons}; a reversal cannot wait for the board, so ask for a virement instead",
        )
    description = f"Reversal of entry {seq}: {reason}"
    return [Entry("reversal", period, description, postings, {"entry": seq, "reason": reason}, seq)]


def _reversers(tx: Tx, postings: tuple[Posting, ...]) -> list[str]:
    """Who may reverse: the host's finance officers, or those of the one partner concerned.

    The partner concerned is the one whose lines or contributions the reversal takes from;
    when it takes from nobody (undoing a spend), the one partner whose lines it touches. A
    reversal that takes from two partners is the host's to make.
    """

    def partner_of(p: Posting) -> str | None:
        return p.partner if p.account == "contrib" else tx.ctx.lines[str(p.line)].partner

    takes = {
        partner_of(p)
        for p in postings
        if p.account in ("contrib", "line")
        and (p.amount_pence > 0 if p.account == "contrib" else p.amount_pence < 0)
    }
    touched = {partner_of(p) for p in postings if p.account in ("contrib", "line")}
    concerned = takes or touched
    return [tx.ctx.host, *([str(x) for x in concerned] if len(concerned) == 1 else [])]


def _check_reversal_leaves_money(tx: Tx, postings: tuple[Posting, ...], seq: int) -> None:
    """A reversal may not take money that has since moved on (allocated, spent, vired)."""
    for p in postings:
        if p.amount_pence >= 0 or p.account not in ("pool", "line", "commit"):
            continue
        if p.account == "commit":
            have = tx.ref_balance(seq, "commit")
        else:
            have = tx.balance(p.account, line=p.line)
        if have + p.amount_pence < 0:
            where = "the unallocated pool" if p.account == "pool" else f"line {p.line}"
            raise LedgerError(
                f"entry {seq} cannot be reversed: {where} holds {pounds(have)}, less than the "
                f"{pounds(-p.amount_pence)} the reversal would take back"
            )


def close_period(tx: Tx, user: User, request: ClosePeriod) -> list[Entry]:
    require_finance_of(user, [tx.ctx.host], "close a period")
    first_open = period_for(tx, None)
    period = request.period or first_open
    if period != first_open:
        period_for(tx, period)  # names a bad or closed period
        raise LedgerError(f"periods close in order: close {first_open} before {period}")
    # The month's totals travel with its close, chained, so a position need not re-add them.
    payload = {"period": period, "totals": tx.period_totals(period)}
    return [Entry("close", period, f"Period {period} closed", (), payload)]


def _gain_shares(
    tx: Tx, lines: dict[str, int]
) -> tuple[list[dict[str, Any]], dict[str, int], dict[str, int]]:
    """The variance on the lines each gain-share agreement covers, shared by its shares; and
    the lines left to the fund's own risk-share rule."""
    spec = tx.ctx.spec
    rest = dict(lines)
    shares: dict[str, int] = {}
    gained: list[dict[str, Any]] = []
    for agreement in spec.gain_shares:
        covered = [
            line
            for line in sorted(rest)
            if agreement.scope.matches(
                tx.ctx.lines[line], spec.partner(tx.ctx.lines[line].partner).kind
            )
        ]
        amount = sum(rest.pop(line) for line in covered)
        split = split_pence(amount, dict(agreement.shares)) if amount else {}
        for partner, part in split.items():
            shares[partner] = shares.get(partner, 0) + part
        gained.append(
            {
                "name": agreement.name,
                "variance_pence": amount,
                "shares": dict(sorted(split.items())),
            }
        )
    return gained, shares, rest


def settle(tx: Tx, user: User, request: Settle) -> list[Entry]:
    require_role(user, "board", "settle the year")
    closed = tx.closed_periods()
    if YEAR_END in closed:
        raise LedgerError(f"fund {tx.ctx.id} is already settled")
    still_open = [p for p in tx.ctx.periods if p not in closed]
    if still_open:
        raise LedgerError(
            f"settlement comes after every period is closed; {still_open[0]} and "
            f"{len(still_open) - 1} more are open"
        )
    reason = request.reason or "Year-end settlement under the fund's risk-share rule"
    pool = tx.balance("pool")
    lines = {line: amount for line, amount in tx.balances("line", "line_id").items() if amount}
    contributions = {p: -amount for p, amount in tx.balances("contrib", "partner_id").items()}
    gained, shares, rest = _gain_shares(tx, lines)
    own: dict[str, int] = {}
    for line, amount in rest.items():
        partner = tx.ctx.lines[line].partner
        own[partner] = own.get(partner, 0) + amount
    variance = pool + sum(lines.values())
    rule = tx.ctx.spec.risk_share
    for partner, amount in settlement_shares(
        rule,
        variance=pool + sum(rest.values()),
        own=own,
        contributions=contributions,
        host=tx.ctx.host,
    ).items():
        shares[partner] = shares.get(partner, 0) + amount
    shares = {partner: amount for partner, amount in sorted(shares.items()) if amount}
    postings = [Posting("line", -amount, "settlement", line=line) for line, amount in lines.items()]
    if pool:
        postings.append(Posting("pool", -pool, "settlement"))
    postings += [
        Posting("contrib", amount, "settlement", partner=partner)
        for partner, amount in shares.items()
    ]
    payload: dict[str, Any] = {
        "rule": rule.model_dump(mode="json"),
        "variance_pence": variance,
        "shares": shares,
        "decided_by": user.name,
        "reason": reason,
    }
    if tx.ctx.spec.gain_shares:
        payload["gain_shares"] = gained
    what = "underspend" if variance >= 0 else "overspend"
    description = f"Year-end settlement of a {pounds(abs(variance))} {what} ({rule.rule})"
    settlement = Entry("settlement", YEAR_END, description, tuple(postings), payload)
    closing = {"period": YEAR_END, "totals": totals_of([settlement])}
    return [settlement, Entry("close", YEAR_END, "Year closed", (), closing)]


def change_user(tx: Tx, user: User, request: ChangeUser) -> list[Entry]:
    """Give a user access to the fund with ``roles``, change their roles, or (no roles)
    withdraw their access; an admin's act, recorded in the chain like any other."""
    require_role(user, "admin", "change who may use the fund")
    name, partner, reason = request.name, request.partner, request.reason
    if name == user.name:
        raise LedgerError("an admin may not change their own access; ask another admin")
    if partner is not None:
        tx.ctx.partner(partner)
    roles: list[str] = []
    if request.roles:
        try:
            changed = User.model_validate(
                {"name": name, "partner": partner, "roles": request.roles}
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])) or 'user'}: {e['msg']} (got {e['input']!r})"
                if e["loc"]
                else e["msg"].removeprefix("Value error, ")
                for e in exc.errors()
            )
            raise LedgerError(f"user {name!r}: {problems}") from None
        roles = sorted(set(changed.roles))
    elif name not in tx.users:
        raise LedgerError(f"name: {name!r} is not a user of fund {tx.ctx.id}")
    closed = tx.closed_periods()
    period = next((p for p in tx.ctx.periods if p not in closed), YEAR_END)
    what = f"roles {', '.join(roles)}" if roles else "no access"
    description = f"User {name}: {what}" + (f" for {partner}" if partner else "") + f" ({reason})"
    payload = {"name": name, "partner": partner, "roles": roles, "reason": reason}
    return [Entry("user", period, description, (), payload)]


#: Each operation's builder, by the operation's name.
OPERATIONS: Mapping[str, Builder] = {
    "contribute": contribute,
    "allocate": allocate_budget,
    "spend": spend,
    "commit": commit,
    "virement": virement,
    "approve": approve,
    "forecast": forecast,
    "reverse": reverse,
    "close_period": close_period,
    "settle": settle,
    "user": change_user,
}


def build(tx: Tx, user: User, request: Operation) -> list[Entry]:
    """The entries ``request`` writes, by its operation's builder."""
    return OPERATIONS[request.operation](tx, user, request)
