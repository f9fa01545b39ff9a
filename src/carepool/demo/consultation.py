"""The demonstration's consultation: the prevention portfolio put to the public.

Opened by the demonstration as the portal's administrator acting from the command line, once
(running the demonstration again finds it open and leaves it as it is).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from carepool.demo.story import Prevention
from carepool.governance import COMMAND_LINE, Governance, Principal, Role

#: How long the public has to comment.
OPEN_DAYS = 60
ADMIN = Principal(COMMAND_LINE, frozenset({Role.ADMIN}), via="local")


def consultation_id(prevention: Prevention) -> str:
    return f"prevention-portfolio-{prevention.plan.year}"


def open_prevention_consultation(governance: Governance, prevention: Prevention) -> str:
    """Put the chosen prevention portfolio to the public; its consultation's id."""
    cid = consultation_id(prevention)
    if any(c.id == cid for c in governance.consultations()):
        return cid
    plan = prevention.plan
    names = sorted({c.option.name for c in plan.portfolio.chosen})
    shares = [
        f"{name}: {'a net gain of' if net >= 0 else 'a net cost of'} £{abs(net):,.0f}"
        for name, net in zip(plan.partner_names, plan.portfolio.net_positions, strict=True)
    ]
    proposal = "\n\n".join(
        [
            f"The board set aside up to £{prevention.budget:,.0f} a year for prevention and "
            f"proposes {', '.join(names) or 'no intervention'}, in the places where each does "
            f"most good for the money: £{plan.portfolio.cost:,.0f} over five years. What is not "
            "spent is left: no other intervention, in any place, is worth its cost at the "
            "appraisal's threshold while leaving every partner's fair share positive.",
            f"Over five years the portfolio is expected to save £{plan.portfolio.saving:,.0f} "
            "in care that would otherwise be needed, and to add "
            f"{plan.portfolio.qalys:,.1f} quality-adjusted life years.",
            "Councils pay for much of the prevention while the NHS saves on admissions, so the "
            "costs and savings are shared between the partners by their fair shares. Each "
            "partner's net position under that schedule: " + "; ".join(shares) + ".",
            "The figures, place by place, are on the prevention page. Tell us what you think.",
        ]
    )
    today = datetime.now(UTC).date()
    governance.open_consultation(
        ADMIN,
        consultation_id=cid,
        title="Investing in prevention",
        summary="Which prevention the pooled fund should pay for, where, and how the partners "
        "share what it costs and saves.",
        proposal=proposal,
        opens_on=today,
        closes_on=today + timedelta(days=OPEN_DAYS),
    )
    return cid
