"""The projection's rows, as ``carepool project --json`` prints them: one row per scenario,
year, place, measure and (for money) partner, with the central value and the 10th and 90th
percentiles of the draws (``lower``, ``upper``).

- Population and demand at the level asked for (the region, each borough or each
  neighbourhood).
- What each partner's share costs in each place of that level (``cost``: the ICB's NHS
  services, the council's social care, and what ``people`` pay towards their care).
- Each partner's ``cost``, ``income`` and ``gap`` where it holds its budget (the ICB for the
  region, each council for its borough) whatever the level, at constant prices and in cash
  (``_cash``).
- Under a charging reform: what the council and people pay for social care by deprivation
  quintile (level ``quintile``), and the people newly supported by each council.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.projection.demand import MEASURES
from carepool.projection.engine import COLUMNS, MONEY, percentiles
from carepool.projection.service import ProjectionResult, ScenarioProjection

FloatArray = npt.NDArray[np.float64]

FIELDS: Final = (
    "scenario",
    "year",
    "place",
    "place_name",
    "level",
    "measure",
    "partner",
    "value",
    "lower",
    "upper",
    "unit",
)
_UNITS = {m.name: m.unit for m in MEASURES}


def _band(draws: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Central value (draw 0) and the 10th and 90th percentiles over the others, along the
    last axis."""
    central = draws[..., 0]
    if draws.shape[-1] == 1:
        return central, central, central
    bands = percentiles(np.moveaxis(draws[..., 1:], -1, 0))
    return central, bands[..., 0], bands[..., 1]


def _places(result: ProjectionResult) -> tuple[list[str], list[str]]:
    """The codes and names of the places of the level asked for."""
    base, level = result.base, result.request.level
    if level == "msoa":
        return list(base.msoa_codes), list(base.msoa_names)
    if level == "lad":
        return list(base.lad_codes), list(base.lad_names)
    return [result.region_code], [result.region_name]


def _level_values(result: ProjectionResult, item: ScenarioProjection) -> FloatArray:
    """Every column at the level asked for, ``(year, place, column, 3)``."""
    level, projected = result.request.level, item.projected
    if level == "msoa":
        return projected.msoa
    draws = projected.lad  # (year, lad, draw, column)
    if level == "region":
        draws = draws.sum(axis=1, keepdims=True)
    moved = np.moveaxis(draws, 2, -1)  # (year, place, column, draw)
    return np.stack(_band(moved), axis=-1)


def projection_rows(result: ProjectionResult) -> pd.DataFrame:
    """Every scenario's rows."""
    rows: list[dict[str, Any]] = []
    codes, names = _places(result)
    lad_of = result.base.lad_of_msoa
    icb = result.partners[0].code
    price = f"GBP ({result.price_year} prices)"
    for item in result.scenarios:
        values = _level_values(result, item)
        name = item.scenario.name
        for t, year in enumerate(result.years):
            for p, (code, place_name) in enumerate(zip(codes, names, strict=True)):
                common = {
                    "scenario": name,
                    "year": year,
                    "place": code,
                    "place_name": place_name,
                    "level": result.request.level,
                }
                for k, column in enumerate(COLUMNS):
                    value, lower, upper = values[t, p, k]
                    if column in MONEY:
                        partner = _money_partner(result, column, p, lad_of, icb)
                        rows.append(
                            {
                                **common,
                                "measure": "cost",
                                "partner": partner,
                                "value": round(value / 100),
                                "lower": round(lower / 100),
                                "upper": round(upper / 100),
                                "unit": price,
                            }
                        )
                    else:
                        rows.append(
                            {
                                **common,
                                "measure": column,
                                "partner": None,
                                "value": round(value, 1),
                                "lower": round(lower, 1),
                                "upper": round(upper, 1),
                                "unit": _UNITS[column],
                            }
                        )
        rows.extend(_partner_rows(result, item, price))
        rows.extend(_reform_rows(result, item, price))
    return pd.DataFrame(rows, columns=list(FIELDS))


def _money_partner(
    result: ProjectionResult, column: str, place: int, lad_of: npt.NDArray[np.int64], icb: str
) -> str:
    if column == "nhs_cost_pence":
        return icb
    if column == "people_pay_pence":
        return "people"
    level = result.request.level
    if level == "msoa":
        return result.base.lad_codes[int(lad_of[place])]
    if level == "lad":
        return result.base.lad_codes[place]
    return "councils"


def _partner_rows(
    result: ProjectionResult, item: ScenarioProjection, price: str
) -> list[dict[str, Any]]:
    money = item.money
    rows = []
    figures = {"cost": money.cost, "income": money.income, "gap": money.gap}
    for p, partner in enumerate(money.partners):
        level = "region" if partner.kind == "nhs" else "lad"
        place_name = (
            result.region_name if partner.kind == "nhs" else partner.name.removesuffix(" Council")
        )
        for measure, array in figures.items():
            value, lower, upper = _band(array[:, p, :])
            for t, year in enumerate(result.years):
                for suffix, factor, unit in (
                    ("", 1.0, price),
                    ("_cash", money.cash[t], "GBP (cash)"),
                ):
                    rows.append(
                        {
                            "scenario": item.scenario.name,
                            "year": year,
                            "place": partner.place,
                            "place_name": place_name,
                            "level": level,
                            "measure": measure + suffix,
                            "partner": partner.code,
                            "value": round(value[t] * factor),
                            "lower": round(lower[t] * factor),
                            "upper": round(upper[t] * factor),
                            "unit": unit,
                        }
                    )
    return rows


def _reform_rows(
    result: ProjectionResult, item: ScenarioProjection, price: str
) -> list[dict[str, Any]]:
    """What the council and people pay by quintile, and who is newly supported."""
    rows = []
    by_quintile = np.moveaxis(item.projected.by_quintile, 2, -1)  # (year, quintile, who, draw)
    clients = [COLUMNS.index("older_care_clients"), COLUMNS.index("working_age_care_clients")]
    for t, year in enumerate(result.years):
        common = {"scenario": item.scenario.name, "year": year, "level": "quintile"}
        for q in range(5):
            for who, (measure, partner) in enumerate(
                (("social_care_cost", "councils"), ("social_care_cost", "people"))
            ):
                value, lower, upper = _band(by_quintile[t, q, who])
                rows.append(
                    {
                        **common,
                        "place": f"Q{q + 1}",
                        "place_name": f"IMD quintile {q + 1} (1 most deprived)",
                        "measure": measure,
                        "partner": partner,
                        "value": round(float(value) / 100),
                        "lower": round(float(lower) / 100),
                        "upper": round(float(upper) / 100),
                        "unit": price,
                    }
                )
        if item.scenario.charging.policy == "means-test":
            continue
        growth = item.projected.lad[t, :, 0, clients].sum(axis=0) / np.maximum(
            item.projected.lad[0, :, 0, clients].sum(axis=0), 1.0
        )
        for lad, code in enumerate(result.base.lad_codes):
            newly = float(item.newly_supported[t, lad] * growth[lad])
            rows.append(
                {
                    "scenario": item.scenario.name,
                    "year": year,
                    "place": code,
                    "place_name": result.base.lad_names[lad],
                    "level": "lad",
                    "measure": "newly_council_supported",
                    "partner": code,
                    "value": round(newly, 1),
                    "lower": round(newly, 1),
                    "upper": round(newly, 1),
                    "unit": "people",
                }
            )
    return rows
