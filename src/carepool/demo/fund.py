"""The demonstration fund: Greater Manchester's pooled health and care budget for a year.

Built from what carepool already knows — the boroughs of the built model, the default
allocation of the pool to places and services, and the warehouse's costed activity — so the
demonstration needs nothing typed in:

* partners: NHS Greater Manchester (the ICB, code QOP, host of the fund) and the ten councils;
* budget lines: per borough, the NHS's acute, primary care, mental health and community
  lines and its Better Care Fund contribution to adult social care, and the council's adult
  social care and public health lines;
* contributions: each council pays in its borough's adult social care (less the NHS's
  Better Care Fund share) and public health; the ICB pays in the rest;
* ring-fences: the mental health investment standard (no net move out of mental health),
  the NHS minimum contribution to adult social care through the Better Care Fund, board
  approval for moves between services, and two approvers for virements of £1m or more;
* risk share: in proportion to contributions (model pooled-fund clause 5.3);
* prevention: the lines of the portfolio chosen within the prevention budget, by partner and
  place, funded by virements the board approves, and their gain-share agreement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from carepool.geography import area_name
from carepool.ledger import FundSpec, parse_spec, split_pence
from carepool.prevention import PortfolioLines
from carepool.stats import largest_remainder

ICB = "QOP"  # NHS Greater Manchester ICB (NHS England allocation tool data)
ICB_NAME = "NHS Greater Manchester Integrated Care Board"
#: Formula components that the ICB commissions; the rest (adult social care, public health)
#: are the councils'.
NHS_SERVICES = ("acute", "primary_care", "mental_health", "community")
COUNCIL_SERVICES = ("adult_social_care", "public_health")
BCF = "bcf_social_care"
#: The NHS minimum contribution to the Better Care Fund, England, 2025/26: £5,614m (NHS
#: England, "Better Care Fund: grants and funding"), shared here by residents over England's
#: 56,550,138 (ONS mid-2022, as in the default allocation formula).
BCF_NHS_MINIMUM_ENGLAND_PENCE = 5_614_000_000 * 100
ENGLAND_RESIDENTS = 56_550_138
LARGE_VIREMENT_PENCE = 1_000_000 * 100


@dataclass(frozen=True)
class Borough:
    code: str
    name: str
    residents: int


def line_id(service: str, place: str) -> str:
    return f"{service}:{place}"


def fund_spec(
    fund_id: str,
    year: str,
    boroughs: Iterable[Borough],
    mh_floor_pence: int,
    bcf_floor_pence: int,
    prevention: PortfolioLines | None = None,
) -> FundSpec:
    """The fund's specification: partners, users, lines, rules and risk share; named for the
    boroughs it pools (a model of two boroughs is not Greater Manchester's fund). With a
    prevention portfolio, its lines and its gain-share agreement too."""
    boroughs = list(boroughs)
    area = area_name(b.code for b in boroughs)
    partners = [{"id": ICB, "name": ICB_NAME, "kind": "nhs_commissioner"}]
    partners += [{"id": b.code, "name": f"{b.name} Council", "kind": "council"} for b in boroughs]
    users: list[dict[str, Any]] = [
        {"name": "gm.admin", "roles": ["admin"]},
        {"name": "finance.icb", "partner": ICB, "roles": ["finance"]},
        {"name": "board.chair", "roles": ["board"]},
        {"name": "board.council-lead", "roles": ["board"]},
        {"name": "board.nhs-lead", "roles": ["board"]},
        {"name": "auditor.gm", "roles": ["auditor"]},
        {"name": "resident", "roles": ["public"]},
    ]
    users += [
        {"name": f"finance.{b.code}", "partner": b.code, "roles": ["finance"]} for b in boroughs
    ]
    lines: list[dict[str, str]] = []
    for b in boroughs:
        lines += [
            {"id": line_id(s, b.code), "service": s, "place": b.code, "partner": ICB}
            for s in NHS_SERVICES
        ]
        lines.append(
            {
                "id": line_id(BCF, b.code),
                "service": "adult_social_care",
                "place": b.code,
                "partner": ICB,
            }
        )
        lines += [
            {"id": line_id(s, b.code), "service": s, "place": b.code, "partner": b.code}
            for s in COUNCIL_SERVICES
        ]
    rules = [
        {
            "name": "mental-health-investment-standard",
            "kind": "floor",
            "scope": {"service": "mental_health"},
            "floor_pence": mh_floor_pence,
            "reason": "mental health spending may not fall below its allocation for the year "
            "(the Mental Health Investment Standard)",
        },
        {
            "name": "nhs-minimum-to-social-care",
            "kind": "floor",
            "scope": {"service": "adult_social_care", "partner_kind": "nhs_commissioner"},
            "floor_pence": bcf_floor_pence,
            "reason": "the NHS's Better Care Fund contribution to adult social care may not fall "
            "below its minimum",
        },
        {
            "name": "board-approves-moves-between-services",
            "kind": "virement",
            "across": "service",
            "reason": "moving money from one service to another needs the board's approval",
        },
        {
            "name": "two-approvers-for-large-virements",
            "kind": "virement",
            "min_pence": LARGE_VIREMENT_PENCE,
            "approvers": 2,
            "reason": "virements of £1m or more need two board members",
        },
    ]
    return parse_spec(
        {
            "fund": {
                "id": fund_id,
                "name": f"{area} pooled health and social care fund",
                "year": year,
                "kind": "pooled",
                "host": ICB,
            },
            "risk_share": {"rule": "proportional"},
            "partners": partners,
            "users": users,
            "lines": lines + list(prevention.lines if prevention else ()),
            "rules": rules,
            "gain_shares": [prevention.gain_share] if prevention and prevention.gain_share else [],
        },
        f"the {area} demonstration fund",
    )


def bcf_minimum(boroughs: Iterable[Borough]) -> dict[str, int]:
    """Each borough's share of England's NHS minimum BCF contribution, by residents."""
    return {
        b.code: BCF_NHS_MINIMUM_ENGLAND_PENCE * b.residents // ENGLAND_RESIDENTS for b in boroughs
    }


def budgets(
    components: pd.DataFrame, place_totals: dict[str, int], bcf: dict[str, int]
) -> dict[str, int]:
    """Pence per line: each place's allocation (``place_totals``, whole pounds, as
    ``carepool allocate`` prints it) shared over its services in proportion to the
    allocation's per-place component targets.

    The components' targets are each rounded to whole pounds, so their sum can differ from the
    place's allocation by a pound or two (and by more where the pace of change holds a place
    from its target); sharing the allocation itself keeps one set of figures everywhere. The
    NHS's Better Care Fund line takes its minimum out of the borough's adult social care; the
    council's line keeps the rest.
    """
    out: dict[str, int] = {}
    for place, rows in components.groupby("place", sort=True):
        pounds = largest_remainder(rows["target"].to_numpy(dtype=float), place_totals[str(place)])
        for component, amount in zip(rows["component"].tolist(), pounds.tolist(), strict=True):
            pence = int(amount) * 100
            if component == "adult_social_care":
                nhs = min(bcf.get(str(place), 0), pence)
                out[line_id(BCF, str(place))] = nhs
                pence -= nhs
            out[line_id(component, str(place))] = pence
    return out


def contributions(spec: FundSpec, line_budgets: dict[str, int]) -> dict[str, int]:
    """What each partner pays in: the budgets of the lines it commissions."""
    paid: dict[str, int] = {}
    for line in spec.lines:
        paid[line.partner] = paid.get(line.partner, 0) + line_budgets.get(line.id, 0)
    return paid


def monthly(total: int, periods: tuple[str, ...]) -> dict[str, int]:
    """A year's pence spread evenly over its months, the parts summing exactly."""
    return split_pence(total, dict.fromkeys(periods, 1))
