"""Every public collection: its name, title, description, source and the part of the
system it comes from (``model``: the warehouse, refreshed at build; ``fund``: the ledger,
refreshed at posting). The API, the portal and the open-data package read this one list."""

from __future__ import annotations

from dataclasses import dataclass

LICENCE = {
    "name": "OGL-UK-3.0",
    "title": "Open Government Licence v3.0",
    "path": "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/",
}


@dataclass(frozen=True)
class Collection:
    name: str
    title: str
    description: str
    part: str
    #: the columns that identify a row (the data package's primary key)
    key: tuple[str, ...]


COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        "places",
        "Places",
        "Each place the pool is allocated to: residents in the model, need index (weighted "
        "population per head, 1 = the region's average) and target share.",
        "model",
        ("place",),
    ),
    Collection(
        "neighbourhoods",
        "Neighbourhoods",
        "Each neighbourhood (MSOA, 2021): its place, deprivation (IoD2025 score), residents in "
        "the model, and emergency admissions and under-75 mortality (directly standardised "
        "rates per 100,000) in the latest year; small counts suppressed.",
        "model",
        ("neighbourhood",),
    ),
    Collection(
        "allocations",
        "Allocations",
        "Each place's allocation of the pooled budget by the published formula, in whole "
        "pounds that sum exactly to the pool.",
        "model",
        ("place",),
    ),
    Collection(
        "allocation_steps",
        "Why each place got what it got",
        "The allocation built up step by step from an equal share per head: age and sex, "
        "additional need, inequalities, market forces.",
        "model",
        ("place", "step"),
    ),
    Collection(
        "indicators",
        "Outcomes and their benchmarks",
        "Each published indicator for the region and each place, every year, with 95% "
        "limits, the England and region comparisons and the trend; small counts suppressed.",
        "model",
        ("indicator", "place", "period"),
    ),
    Collection(
        "gaps",
        "Gaps and inequalities",
        "The region against England, and the slope index of inequality across deprivation "
        "deciles, for each indicator and year.",
        "model",
        ("indicator", "period", "measure"),
    ),
    Collection(
        "place_gaps",
        "Inequality within each place",
        "For each place in the latest year: the gap to England, the gap between its most and "
        "least deprived fifths, and the slope index of inequality across its own deprivation "
        "deciles, for life expectancy, premature mortality and emergency admissions.",
        "model",
        ("place", "indicator", "measure"),
    ),
    Collection(
        "interventions",
        "Prevention interventions appraised",
        "Each intervention in the library appraised over its horizon: cost, benefit, net "
        "present value, QALYs and the chance its net present value is positive.",
        "model",
        ("intervention",),
    ),
    Collection(
        "intervention_partners",
        "Who pays and who saves",
        "Each intervention's costs and savings by partner, and each partner's fair share "
        "(Shapley value).",
        "model",
        ("intervention", "partner"),
    ),
    Collection(
        "portfolio",
        "The prevention portfolio",
        "The interventions chosen, by place, within the prevention budget.",
        "model",
        ("intervention", "place"),
    ),
    Collection(
        "portfolio_partners",
        "Each partner's share of the portfolio",
        "Each partner's net position under the fair-share schedule, and its cashable savings.",
        "model",
        ("partner",),
    ),
    Collection(
        "fund_lines",
        "The pooled fund, line by line",
        "Each budget line of the pooled fund: its service, place and partner; contributions, "
        "budget, commitments, actual spend and forecast, in pence.",
        "fund",
        ("line",),
    ),
    Collection(
        "fund_by_place",
        "The pooled fund, place by place",
        "The fund's lines summed by place: budget, commitments, actual spend, forecast and "
        "what is left, in pence (forecasts over the lines that have one).",
        "fund",
        ("place",),
    ),
    Collection(
        "fund_by_service",
        "The pooled fund, service by service",
        "The fund's lines summed by service: budget, commitments, actual spend, forecast and "
        "what is left, in pence.",
        "fund",
        ("service",),
    ),
    Collection(
        "fund_by_partner",
        "The pooled fund's lines, partner by partner",
        "The fund's lines summed by the partner whose line it is: budget, commitments, actual "
        "spend, forecast and what is left, in pence.",
        "fund",
        ("partner",),
    ),
    Collection(
        "fund_partners",
        "Who put in what",
        "Each partner's contribution to the pooled fund and its share of any overspend.",
        "fund",
        ("partner",),
    ),
    Collection(
        "decisions",
        "Decisions register",
        "Every decision on the fund, this year's and earlier years': virements proposed and "
        "approved (who approved, and why), rules applied, periods closed.",
        "fund",
        ("fund", "seq"),
    ),
    Collection(
        "journal",
        "The public journal",
        "Every entry of the fund's hash-chained journal without who posted it; check it "
        "against the signed checkpoint.",
        "fund",
        ("seq",),
    ),
)

BY_NAME = {c.name: c for c in COLLECTIONS}
