"""Running the demonstration fund end to end: open, contribute, allocate, spend, decide.

Every request carries a fixed request id, so running the demonstration again replays the
same requests and the ledger answers with its first results: nothing is posted twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from carepool.allocation import Allocation, Formula
from carepool.demo import fund as gm
from carepool.ledger import (
    Allocate,
    Approve,
    ClosePeriod,
    Ledger,
    LedgerRequest,
    Receipt,
    Virement,
    pounds,
    sha256,
    split_pence,
)
from carepool.prevention import PortfolioLines
from carepool.warehouse import Tables

#: The winter virement the demonstration puts to the board: the largest borough's acute
#: budget helps its adult social care buy home care to get people out of hospital.
WINTER_AMOUNT_PENCE = 2_000_000 * 100
WINTER_MONTH_INDEX = 7  # November
#: Every month is closed but the year's last: the year-end adjustments (and the portal's
#: officers: a virement proposed and approved) are posted there until the year is closed.
FORECAST_MONTH_INDEX = 8  # forecasts made at the end of December


@dataclass(frozen=True)
class DemoRun:
    fund: str
    spend_year: str
    requests: int
    replayed: int
    virement: dict[str, Any]


def line_spend(
    warehouse: Tables, year: str, formula: Formula, line_budgets: dict[str, int]
) -> dict[str, int]:
    """A year's public spend per line from the warehouse's costed activity.

    NHS-paid activity goes to the ICB's line for the formula component that holds the
    service; council-paid adult social care is shared between the council's line and the
    NHS's Better Care Fund line in proportion to their budgets. Residents' own payments are
    not the fund's money.
    """
    t = warehouse.table("activity_cost")
    frame = warehouse.to_pandas(
        t.filter([t.year == year, t.payer_kind != "self"])
        .group_by(["lad_code", "service", "payer_kind"])
        .aggregate(cost_pence=t.cost_pence.sum())
    )
    component_of = {s: c.id for c in formula.components for s in c.services}
    spend: dict[str, int] = {}
    rows = zip(
        frame["lad_code"].tolist(),
        frame["service"].tolist(),
        frame["cost_pence"].tolist(),
        strict=True,
    )
    for place, service, cost in rows:
        component = component_of.get(service)
        if component is None:
            continue
        pence = int(cost)
        if component == "adult_social_care":
            council, nhs = gm.line_id(component, place), gm.line_id(gm.BCF, place)
            weights = {council: line_budgets.get(council, 0), nhs: line_budgets.get(nhs, 0)}
            if sum(weights.values()) <= 0:
                weights = {council: 1}
            for line, part in split_pence(pence, weights).items():
                spend[line] = spend.get(line, 0) + part
        else:
            line = gm.line_id(component, place)
            spend[line] = spend.get(line, 0) + pence
    return spend


def run_demo(
    ledger: Ledger,
    allocation: Allocation,
    formula: Formula,
    warehouse: Tables,
    spend_year: str,
    model: str = "",
    prevention: PortfolioLines | None = None,
) -> DemoRun:
    """Open the Greater Manchester fund for the allocation's year and post a year to it.

    ``model`` names the built model when it is not the default one (for example
    ``"E08000009 scale 0.02 seed 42"``); each model gets a fund of its own, so the
    demonstration never clashes with one posted from another model.
    """
    year = str(allocation.metadata["year"])
    fund = f"gm-{year}" if not model else f"demo-{year}-{sha256(model)[:8]}"
    places = allocation.places
    boroughs = [
        gm.Borough(code, name, int(population))
        for code, name, population in zip(
            places["place"].tolist(),
            places["name"].tolist(),
            places["population"].tolist(),
            strict=True,
        )
    ]
    bcf = gm.bcf_minimum(boroughs)
    totals = dict(
        zip(places["place"].tolist(), places["allocation"].astype(int).tolist(), strict=True)
    )
    line_budgets = gm.budgets(allocation.components, totals, bcf)
    mh_floor = sum(v for k, v in line_budgets.items() if k.startswith("mental_health:"))
    spec = gm.fund_spec(fund, year, boroughs, mh_floor, sum(bcf.values()), prevention)
    ledger.open_fund(spec, actor="gm.admin", request_id=f"open-{fund}")
    officer = {b.code: f"finance.{b.code}" for b in boroughs} | {gm.ICB: "finance.icb"}
    receipts = []

    paid = gm.contributions(spec, line_budgets)
    receipts += ledger.submit(
        fund,
        [
            LedgerRequest(
                "contribute",
                officer[p],
                f"contribution-{p}",
                {"partner": p, "amount_pence": amount, "description": "Annual contribution"},
            )
            for p, amount in sorted(paid.items())
            if amount > 0
        ],
    )
    receipts.append(
        ledger.post(
            fund,
            Allocate(
                allocations=sorted(line_budgets.items()),
                description=f"Allocation of the pool by the formula {formula.id} {formula.version}",
            ),
            actor="finance.icb",
            request_id="allocation",
        )
    )
    periods = spec.periods()
    spend = line_spend(warehouse, spend_year, formula, line_budgets)
    if prevention is not None and prevention.lines:
        receipts += _prevention_virements(ledger, fund, prevention, periods[0])
        spend |= prevention.budgets  # the programme runs as planned
    owner = {line.id: line.partner for line in spec.lines}
    monthly = {line: gm.monthly(total, periods) for line, total in spend.items() if total > 0}
    virement: dict[str, Any] = {}
    for index, period in enumerate(periods):
        batch = [
            LedgerRequest(
                "spend",
                officer[owner[line]],
                f"spend-{line}-{period}",
                {
                    "line": line,
                    "amount_pence": months[period],
                    "period": period,
                    "description": f"Spend on {line}, {period}",
                },
            )
            for line, months in sorted(monthly.items())
            if months[period] > 0
        ]
        receipts += ledger.submit(fund, batch)
        if index == WINTER_MONTH_INDEX:
            largest = max(boroughs, key=lambda b: (b.residents, b.code))
            virement = _winter_virement(ledger, fund, period, largest.code)
        if index == FORECAST_MONTH_INDEX:
            done = index + 1
            receipts += ledger.submit(
                fund,
                [
                    LedgerRequest(
                        "forecast",
                        officer[owner[line]],
                        f"forecast-{line}-{period}",
                        {
                            "line": line,
                            "outturn_pence": sum(months[p] for p in periods[:done])
                            * len(periods)
                            // done,
                            "period": period,
                        },
                    )
                    for line, months in sorted(monthly.items())
                ],
            )
        if index < len(periods) - 1:  # the year's last month stays open
            receipts.append(_close(ledger, fund, period))
    return DemoRun(fund, spend_year, len(receipts), sum(r.replayed for r in receipts), virement)


def _close(ledger: Ledger, fund: str, period: str) -> Receipt:
    """The host's finance officer closes a month."""
    return ledger.post(
        fund, ClosePeriod(period=period), actor="finance.icb", request_id=f"close-{period}"
    )


def _prevention_virements(
    ledger: Ledger, fund: str, prevention: PortfolioLines, period: str
) -> list[Receipt]:
    """The prevention portfolio's money into its lines: from the council's public health line
    (councils' prevention) or the NHS's community line (the NHS's) in the same place. Moving
    money between services is held for the board, so each line's budget is a board decision
    in the register, approved by the chair (and the council lead where two are needed)."""
    receipts = []
    for line in prevention.lines:
        nhs = line["partner"] == gm.ICB
        source = gm.line_id("community" if nhs else "public_health", line["place"])
        held = ledger.post(
            fund,
            Virement(
                from_line=source,
                to_line=line["id"],
                amount_pence=prevention.budgets[line["id"]],
                reason="the prevention portfolio chosen within the prevention budget "
                "(carepool portfolio): its first year in this place",
                period=period,
            ),
            actor="finance.icb" if nhs else f"finance.{line['place']}",
            request_id=f"prevention-{line['id']}",
        )
        receipts.append(held)
        if held.status != "held":
            continue
        for n, board in enumerate(("board.chair", "board.council-lead"), start=1):
            decided = ledger.post(
                fund,
                Approve(hold=held.seq, reason="the prevention portfolio the board agreed"),
                actor=board,
                request_id=f"prevention-approval-{n}-{line['id']}",
            )
            receipts.append(decided)
            if decided.detail.get("outcome") == "approved":
                break
    return receipts


def _winter_virement(ledger: Ledger, fund: str, period: str, place: str) -> dict[str, Any]:
    """A cross-service virement of £2m: held, then approved by two board members."""
    source = gm.line_id("acute", place)
    target = gm.line_id("adult_social_care", place)
    move = Virement(
        from_line=source,
        to_line=target,
        amount_pence=WINTER_AMOUNT_PENCE,
        reason="winter: home care to speed discharges from hospital",
        period=period,
    )
    held = ledger.post(fund, move, actor="finance.icb", request_id=f"winter-virement-{period}")
    first = ledger.post(
        fund,
        Approve(hold=held.seq, reason="supports the winter discharge plan"),
        actor="board.chair",
        request_id="winter-approval-1",
    )
    second = ledger.post(
        fund,
        Approve(hold=held.seq, reason="agreed with the councils"),
        actor="board.council-lead",
        request_id="winter-approval-2",
    )
    return {
        "amount": pounds(WINTER_AMOUNT_PENCE),
        "from": source,
        "to": target,
        "held_entry": held.seq,
        "outcome": second.detail.get("outcome"),
        "approvals": [first.detail.get("outcome"), second.detail.get("outcome")],
    }
