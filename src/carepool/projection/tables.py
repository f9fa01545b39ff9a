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
from carepool.projection.engine import AGE_BANDS, COLUMNS, MONEY, percentiles
from carepool.projection.service import ProjectionResult, ScenarioProjection

FloatArray = npt.NDArray[np.float64]

FIELDS: Final = (
    "scenario",
    "year",
    "place",
    "place_name",
    "level",
    "age_group",
    "sex",
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


def projection_rows(result: ProjectionResult, gap_above: float | None = None) -> pd.DataFrame:
    """Every scenario's rows; with ``gap_above`` (pounds, constant prices), the chance each
    partner's gap exceeds it in each year too (``p_gap_above``), beside the chance it exceeds
    nothing (``p_gap_above_zero``)."""
    frames = []
    for item in result.scenarios:
        frames.append(_level_rows(result, item))
        if result.request.by_age_sex:
            frames.append(_age_sex_rows(result, item))
        extra = _partner_rows(result, item, gap_above) + _reform_rows(result, item)
        frames.append(pd.DataFrame(extra, columns=list(FIELDS)))
    return pd.concat(frames, ignore_index=True)[list(FIELDS)]


def _level_rows(result: ProjectionResult, item: ScenarioProjection) -> pd.DataFrame:
    """Population, demand and each partner's cost in every place of the level asked for,
    built column by column (tens of thousands of rows at the neighbourhoods)."""
    values = _level_values(result, item)  # (year, place, column, 3)
    n_years, n_places, n_columns = values.shape[:3]
    codes, names = _places(result)
    year, place, column = (index.ravel() for index in np.indices((n_years, n_places, n_columns)))
    flat = values.reshape(-1, 3)
    money = np.isin(np.array(COLUMNS), MONEY)[column]
    # money in whole pounds; counts to one decimal place
    shown = np.where(money[:, None], np.round(flat / 100.0), np.round(flat, 1))
    partners = np.array(
        [[_money_partner(result, c, p) for c in COLUMNS] for p in range(n_places)], dtype=object
    )
    measures = np.array(["cost" if c in MONEY else c for c in COLUMNS], dtype=object)
    price = f"GBP ({result.price_year} prices)"
    units = np.array([price if c in MONEY else _UNITS[c] for c in COLUMNS], dtype=object)
    return pd.DataFrame(
        {
            "scenario": item.scenario.name,
            "year": np.array(result.years, dtype=object)[year],
            "place": np.array(codes, dtype=object)[place],
            "place_name": np.array(names, dtype=object)[place],
            "level": result.request.level,
            "age_group": "all",
            "sex": "all",
            "measure": measures[column],
            "partner": partners[place, column],
            "value": shown[:, 0],
            "lower": shown[:, 1],
            "upper": shown[:, 2],
            "unit": units[column],
        }
    )


def _age_sex_rows(result: ProjectionResult, item: ScenarioProjection) -> pd.DataFrame:
    """Demand by sex and age band in the region or each borough."""
    draws = item.projected.by_age  # (year, lad, draw, sex, band, measure)
    if result.request.level == "region":
        draws = draws.sum(axis=1, keepdims=True)
    codes, names = _places(result)
    value, lower, upper = _band(np.moveaxis(draws.astype(np.float64), 2, -1))
    year, place, sex, band, measure = (index.ravel() for index in np.indices(value.shape))
    bands = np.array(list(AGE_BANDS), dtype=object)
    measures = np.array([m.name for m in MEASURES], dtype=object)
    return pd.DataFrame(
        {
            "scenario": item.scenario.name,
            "year": np.array(result.years, dtype=object)[year],
            "place": np.array(codes, dtype=object)[place],
            "place_name": np.array(names, dtype=object)[place],
            "level": result.request.level,
            "age_group": bands[band],
            "sex": np.array(["female", "male"], dtype=object)[sex],
            "measure": measures[measure],
            "partner": None,
            "value": np.round(value.ravel(), 1),
            "lower": np.round(lower.ravel(), 1),
            "upper": np.round(upper.ravel(), 1),
            "unit": np.array([_UNITS[m] for m in measures], dtype=object)[measure],
        }
    )


def _money_partner(result: ProjectionResult, column: str, place: int) -> str | None:
    """Who pays a column's money in a place of the level asked for (None: not money)."""
    if column not in MONEY:
        return None
    if column == "nhs_cost_pence":
        return result.partners[0].code
    if column == "people_pay_pence":
        return "people"
    level = result.request.level
    if level == "msoa":
        return result.base.lad_codes[int(result.base.lad_of_msoa[place])]
    if level == "lad":
        return result.base.lad_codes[place]
    return "councils"


def _partner_rows(
    result: ProjectionResult, item: ScenarioProjection, gap_above: float | None
) -> list[dict[str, Any]]:
    """Each partner's cost, income and gap (constant prices and cash), and the chance of a
    gap, where the partner holds its budget."""
    money = item.money
    price = f"GBP ({result.price_year} prices)"
    rows = []
    figures = {"cost": money.cost, "income": money.income, "gap": money.gap}
    thresholds = [(0.0, "p_gap_above_zero")]
    if gap_above is not None:
        thresholds.append((gap_above, "p_gap_above"))
    for p, partner in enumerate(money.partners):
        nhs = partner.kind == "nhs"
        common = {
            "scenario": item.scenario.name,
            "place": partner.place,
            "place_name": result.region_name if nhs else partner.name.removesuffix(" Council"),
            "level": "region" if nhs else "lad",
            "age_group": "all",
            "sex": "all",
            "partner": partner.code,
        }
        for measure, array in figures.items():
            value, lower, upper = _band(array[:, p, :])
            for t, year in enumerate(result.years):
                for suffix, factor, unit in (
                    ("", 1.0, price),
                    ("_cash", money.cash[t], "GBP (cash)"),
                ):
                    figure = (
                        round(value[t] * factor),
                        round(lower[t] * factor),
                        round(upper[t] * factor),
                    )
                    rows.append(_row(common, year, measure + suffix, figure, unit))
        for pounds, measure in thresholds:
            unit = f"probability (gap above £{pounds:,.2f}, {price})"
            for t, year in enumerate(result.years):
                chance = round(money.probability_gap_above(p, t, pounds), 4)
                rows.append(_row(common, year, measure, (chance, chance, chance), unit))
    return rows


def _row(
    common: dict[str, Any], year: str, measure: str, figure: tuple[float, float, float], unit: str
) -> dict[str, Any]:
    value, lower, upper = figure
    return {
        **common,
        "year": year,
        "measure": measure,
        "value": value,
        "lower": lower,
        "upper": upper,
        "unit": unit,
    }


def _reform_rows(result: ProjectionResult, item: ScenarioProjection) -> list[dict[str, Any]]:
    """What the council and people pay by quintile, and who is newly supported."""
    price = f"GBP ({result.price_year} prices)"
    rows = []
    by_quintile = np.moveaxis(item.projected.by_quintile, 2, -1)  # (year, quintile, who, draw)
    for t, year in enumerate(result.years):
        common = {
            "scenario": item.scenario.name,
            "year": year,
            "level": "quintile",
            "age_group": "all",
            "sex": "all",
        }
        for q in range(5):
            for who, (measure, partner) in enumerate(
                (("social_care_cost", "councils"), ("social_care_cost", "people"))
            ):
                value, lower, upper = _band(by_quintile[t, q, who])
                rows.append(
                    {
                        **common,
                        "place": f"Q{q + 1}",
                        "place_name": f"IMD quintile {q + 1}"
                        + (" (most deprived)" if q == 0 else " (least deprived)" if q == 4 else ""),
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
        grown = item.newly_supported_in(t)
        for lad, code in enumerate(result.base.lad_codes):
            newly = round(float(grown[lad]), 1)
            rows.append(
                {
                    "scenario": item.scenario.name,
                    "year": year,
                    "place": code,
                    "place_name": result.base.lad_names[lad],
                    "level": "lad",
                    "age_group": "all",
                    "sex": "all",
                    "measure": "newly_council_supported",
                    "partner": code,
                    "value": newly,
                    "lower": newly,
                    "upper": newly,
                    "unit": "people",
                }
            )
    return rows
