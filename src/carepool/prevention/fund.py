"""An approved portfolio into the pooled fund: its budget lines by partner and place, and its
gain-share schedule as the fund's risk-share rule for those lines.

Each place gets up to two prevention lines, the council's (for what councils deliver) and the
ICB's (for what the NHS delivers), budgeted at the portfolio's first-year cost there. Their
over- or underspend is shared at settlement as the partners share the portfolio's value under
the fair-share schedule: partner k bears φ_k / Σ φ of it, where φ_k is its Shapley share of
the portfolio's net value (docs/methods/prevention.md). The lines and the agreement go into
the fund's specification (:class:`carepool.ledger.GainShare`); the money reaches the lines
by virements that the fund's rules hold for the board, so each is a recorded decision.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from carepool.prevention.appraisal import COUNCIL, NHS
from carepool.prevention.planning import PortfolioPlan

SERVICE = "prevention"
GAIN_SHARE = "prevention-portfolio-gain-share"


def line_id(place: str, payer: int) -> str:
    """The council's prevention line in a place, or the NHS's."""
    return f"{SERVICE}:{place}" if payer == COUNCIL else f"{SERVICE}.nhs:{place}"


@dataclass(frozen=True)
class PortfolioLines:
    """What a fund needs to carry a portfolio: its lines (as a fund specification writes
    them), each line's first-year budget in pence, and the gain-share agreement."""

    lines: tuple[dict[str, str], ...]
    budgets: dict[str, int]
    gain_share: dict[str, Any] | None


def portfolio_lines(plan: PortfolioPlan, partner_ids: Mapping[str, str]) -> PortfolioLines:
    """The lines, budgets and gain share of ``plan``'s portfolio; ``partner_ids`` maps the
    plan's partners (ICB and council codes) to the fund's partner ids."""
    portfolio = plan.portfolio
    budgets: dict[str, int] = {}
    owners: dict[str, tuple[str, str]] = {}
    for chosen in portfolio.chosen:
        option = chosen.option
        for payer in (NHS, COUNCIL):
            pounds = float(option.cost_by_payer[payer, 0]) * chosen.share
            if pounds <= 0:
                continue
            line = line_id(option.place, payer)
            budgets[line] = budgets.get(line, 0) + round(pounds * 100)
            owners[line] = (option.place, option.place if payer == COUNCIL else option.nhs_partner)
    lines = tuple(
        {
            "id": line,
            "service": SERVICE,
            "place": place,
            "partner": partner_ids.get(partner, partner),
        }
        for line, (place, partner) in sorted(owners.items())
        if budgets[line] > 0
    )
    positive = {
        partner_ids.get(p, p): float(v)
        for p, v in zip(portfolio.partners, portfolio.net_positions, strict=True)
        if v > 0
    }
    gain_share = None
    if lines and positive:
        total = sum(positive.values())
        gain_share = {
            "name": GAIN_SHARE,
            "scope": {"service": SERVICE},
            "shares": {p: v / total for p, v in sorted(positive.items())},
            "reason": "the prevention portfolio's over- or underspend is shared as the partners "
            "share its value under the fair-share schedule (Shapley values)",
        }
    return PortfolioLines(lines, {k: v for k, v in sorted(budgets.items()) if v > 0}, gain_share)
