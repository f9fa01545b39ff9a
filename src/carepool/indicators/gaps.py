"""Gaps and inequalities: the region against England, most against least deprived, and the
slope and relative index of inequality across deprivation deciles — and how each moved. The
same for one local authority (``place``): the authority against England and the region, and
its own most and least deprived quintiles and deciles (national IoD ranks).

Built from the published (disclosure-controlled) indicator table, so nothing here can reveal
what the table hides: a gap or index whose inputs are suppressed is suppressed too.
See docs/methods/inequality.md and docs/methods/benchmarking.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from carepool.errors import IndicatorError
from carepool.indicators.benchmarks import Z95
from carepool.indicators.cube import model_years
from carepool.indicators.definitions import BY_ID, Method
from carepool.indicators.disclosure import HES_RULE, DisclosureRule
from carepool.indicators.levels import LOCAL_DECILE_PREFIX
from carepool.indicators.table import indicator_table, normalise_year
from carepool.stats import sii
from carepool.warehouse import Tables
from carepool.years import previous_year

COLUMNS = [
    "indicator",
    "period",
    "measure",
    "value",
    "lower",
    "upper",
    "change",
    "movement",
    "suppressed",
    "indicator_name",
    "unit",
    "detail",
]
GAP_LEVELS = ("region", "quintile", "decile")
PLACE_GAP_LEVELS = ("lad", "lad_quintile", "lad_decile")
MEASURES = {
    "region_minus_england": "region value minus the England value",
    "place_minus_england": "local authority value minus the England value",
    "place_minus_region": "local authority value minus the region value",
    "q1_minus_q5": "most deprived quintile minus least deprived quintile",
    "sii": "slope index of inequality across deprivation deciles (least minus most deprived)",
    "rii": "relative index of inequality across deprivation deciles (least over most deprived)",
}


@dataclass(frozen=True)
class _Scope:
    """Whose gaps: the region's, or one local authority's (its code prefixes its quantiles)."""

    level: str
    quintile_level: str
    decile_level: str
    prefix: str = ""
    #: what precedes a decile's number in its code: national deciles IMD-D1..10, deciles
    #: local to an authority IMD-L1..10
    decile_code: str = "IMD-D"

    @property
    def against_england(self) -> str:
        return "region_minus_england" if self.level == "region" else "place_minus_england"


REGION = _Scope("region", "quintile", "decile")


def _se(lower: float, upper: float) -> float:
    return (upper - lower) / (2 * Z95)


def _row(
    indicator: str, period: str, measure: str, value: float, lower: float, upper: float, detail: str
) -> dict[str, object]:
    return {
        "indicator": indicator,
        "period": period,
        "measure": measure,
        "value": value,
        "lower": lower,
        "upper": upper,
        "detail": detail,
        "suppressed": False,
    }


#: The detail of a gap that cannot be calculated: its inputs are shown but have no value.
NOT_CALCULATED = "not calculated: "


def _not_calculated(indicator: str, period: str, measure: str, why: str) -> dict[str, object]:
    return _row(indicator, period, measure, np.nan, np.nan, np.nan, NOT_CALCULATED + why)


def _hidden(indicator: str, period: str, measure: str) -> dict[str, object]:
    return {"indicator": indicator, "period": period, "measure": measure, "suppressed": True}


def _quintile_gap(
    indicator: str, period: str, quintiles: pd.DataFrame, first: str, last: str
) -> dict[str, object]:
    """Most minus least deprived quintile, with a normal interval from their two intervals."""
    q1, q5 = (
        {c: float(quintiles[c].astype(float)[q]) for c in ("value", "lower", "upper")}
        for q in (first, last)
    )
    lacking = [q for q, v in ((first, q1), (last, q5)) if np.isnan(v["value"])]
    if lacking:
        return _not_calculated(
            indicator, period, "q1_minus_q5", f"no value for {', '.join(lacking)}"
        )
    gap = q1["value"] - q5["value"]
    se = np.hypot(_se(q1["lower"], q1["upper"]), _se(q5["lower"], q5["upper"]))
    return _row(
        indicator,
        period,
        "q1_minus_q5",
        gap,
        gap - Z95 * se,
        gap + Z95 * se,
        f"most deprived {q1['value']:.1f}, least deprived {q5['value']:.1f}",
    )


def _period_rows(
    indicator: str, period: str, rows: pd.DataFrame, scope: _Scope = REGION
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    hidden = rows[rows["suppressed"]]
    rows = rows[~rows["suppressed"]]
    top = rows[rows["level"] == scope.level]
    if (hidden["level"] == scope.level).any():
        out.append(_hidden(indicator, period, scope.against_england))
        if scope.level != "region":
            out.append(_hidden(indicator, period, "place_minus_region"))
    if len(top) == 1:
        r = top.iloc[0]
        benchmarks = [(scope.against_england, "england_value", "England")]
        if scope.level != "region":
            benchmarks.append(("place_minus_region", "region_value", "region"))
        for measure, column, name in benchmarks:
            detail = f"{name} {r[column]:.1f}" if pd.notna(r[column]) else f"no {name} value"
            if column == "england_value" and pd.notna(r[column]):
                detail += f" ({r['england_period']})"
            out.append(
                _row(
                    indicator,
                    period,
                    measure,
                    r["value"] - r[column],
                    r["lower"] - r[column],
                    r["upper"] - r[column],
                    detail,
                )
            )
    quintiles = rows[rows["level"] == scope.quintile_level].set_index("place")
    first, last = f"{scope.prefix}IMD-Q1", f"{scope.prefix}IMD-Q5"
    if {first, last} & set(hidden.loc[hidden["level"] == scope.quintile_level, "place"]):
        out.append(_hidden(indicator, period, "q1_minus_q5"))
    elif {first, last} <= set(quintiles.index):
        out.append(_quintile_gap(indicator, period, quintiles, first, last))
    deciles = rows[rows["level"] == scope.decile_level].copy()
    deciles["d"] = (
        deciles["place"].str.removeprefix(f"{scope.prefix}{scope.decile_code}").astype(int)
    )
    deciles = deciles.sort_values("d")
    # an index over a hidden decile is not published
    if (hidden["level"] == scope.decile_level).any():
        out.extend(_hidden(indicator, period, m) for m in ("sii", "rii"))
        return out
    valued = deciles[["value", "lower", "upper", "denominator"]].notna().all(axis=1) & (
        deciles["denominator"] > 0
    )
    if len(deciles) >= 5 and not valued.all():  # every decile, or the slope is biased
        lacking = ", ".join(deciles.loc[~valued, "place"].astype(str))
        out.extend(
            _not_calculated(indicator, period, m, f"no value for {lacking}") for m in ("sii", "rii")
        )
    elif len(deciles) >= 5:
        result = sii(
            deciles["denominator"].to_numpy(np.float64),
            deciles["value"].to_numpy(np.float64),
            lower=deciles["lower"].to_numpy(np.float64),
            upper=deciles["upper"].to_numpy(np.float64),
            repetitions=10_000,
        )
        s_lo, s_hi, r_lo, r_hi = result.limits[0.95]
        deciles_used = f"{len(deciles)} deciles"
        out.append(_row(indicator, period, "sii", result.sii, s_lo, s_hi, deciles_used))
        out.append(_row(indicator, period, "rii", result.rii, r_lo, r_hi, deciles_used))
    return out


def _movement(frame: pd.DataFrame) -> pd.DataFrame:
    """Change of each gap since its previous period, and whether it is significant."""
    frame = frame.sort_values(["indicator", "measure", "period"]).copy()
    grouped = frame.groupby(["indicator", "measure"], sort=False)
    before = grouped[["value", "lower", "upper"]].shift(1)
    frame["change"] = frame["value"] - before["value"]
    se = np.hypot(
        (frame["upper"] - frame["lower"]) / (2 * Z95),
        (before["upper"] - before["lower"]) / (2 * Z95),
    )
    z: pd.Series = frame["change"] / se
    wider = frame["value"].abs() > before["value"].abs()
    significant = z.abs() > Z95
    frame["movement"] = np.where(
        frame["change"].isna(),
        "cannot be calculated",
        np.where(significant, np.where(wider, "widened", "narrowed"), "no significant change"),
    )
    rii = frame["measure"] == "rii"  # a ratio: further from 1 is wider
    frame.loc[rii & significant, "movement"] = np.where(
        (frame["value"] - 1).abs() > (before["value"] - 1).abs(), "widened", "narrowed"
    )[rii & significant]
    return frame


def gap_table(
    warehouse: Tables,
    *,
    indicators: Sequence[str] | None = None,
    years: Sequence[str] | None = None,
    place: str | None = None,
    rule: DisclosureRule | None = HES_RULE,
) -> pd.DataFrame:
    """Region–England and Q1–Q5 gaps, SII and RII, per indicator and period, with movement;
    with ``place`` (a local authority's code), that authority's against England and the
    region, and across its own deprivation quintiles and deciles.

    Indicators without intervals (shares of spend) have no inequality indices. With
    ``years``, the year before each is computed too (when the model holds it), so that each
    gap's change and movement are the same as over every year.
    """
    wanted: list[str] | None = None
    if years:
        known = model_years(warehouse)
        wanted = list(dict.fromkeys(normalise_year(y, known) for y in years))
        before = [previous_year(y) for y in wanted if previous_year(y) in known]
        years = list(dict.fromkeys([*before, *wanted]))
    if place is None:
        table = indicator_table(
            warehouse, indicators=indicators, levels=list(GAP_LEVELS), years=years, rule=rule
        )
        return _only(gaps_from_table(table), wanted)
    table = indicator_table(
        warehouse, indicators=indicators, levels=list(PLACE_GAP_LEVELS), years=years, rule=rule
    )
    lads = table.loc[table["level"] == "lad", "place"].astype(str)
    code = next((c for c in lads if c.upper() == place.strip().upper()), None)
    if code is None:
        raise IndicatorError(
            f"gaps are for the region or one local authority; {place!r} is not a local "
            f"authority code (available: {', '.join(sorted(set(lads)))})"
        )
    return _only(place_gaps(table, code), wanted)


def place_gaps(table: pd.DataFrame, code: str, local: bool = False) -> pd.DataFrame:
    """One local authority's gaps (against England and the region, and across its own
    deprivation quintiles and deciles) from an indicator table holding its ``lad`` row and
    its ``lad_quintile`` and ``lad_decile`` rows, among any others; ``local``: across the
    deciles local to the authority (``lad_local_decile`` rows, analysis only), as OHID
    measures inequality within an authority."""
    scope = (
        _Scope("lad", "lad_quintile", "lad_local_decile", f"{code}:", LOCAL_DECILE_PREFIX)
        if local
        else _Scope("lad", "lad_quintile", "lad_decile", prefix=f"{code}:")
    )
    places = table["place"].astype(str)
    return gaps_from_table(table[(places == code) | places.str.startswith(scope.prefix)], scope)


def _only(frame: pd.DataFrame, periods: list[str] | None) -> pd.DataFrame:
    if periods is None:
        return frame
    return frame[frame["period"].isin(periods)].reset_index(drop=True)


def gaps_from_table(table: pd.DataFrame, scope: _Scope = REGION) -> pd.DataFrame:
    """:func:`gap_table` from an indicator table that has the region, quintiles and deciles
    (or one local authority and its own, with its ``scope``)."""
    rows: list[dict[str, object]] = []
    shares = {str(i) for i in table["indicator"] if BY_ID[str(i)].method is Method.SHARE_OF_SPEND}
    if shares and shares == set(table["indicator"]):
        raise IndicatorError(
            f"{', '.join(sorted(shares))}: a share of spend has no interval, so no gaps or "
            "inequality indices; see `carepool indicators --level quintile` for its values"
        )
    for (indicator, period), group in table.groupby(["indicator", "period"], sort=False):
        if BY_ID[str(indicator)].method is Method.SHARE_OF_SPEND:
            continue
        rows.extend(_period_rows(str(indicator), str(period), group, scope))
    frame = pd.DataFrame(rows, columns=[*(c for c in COLUMNS if c not in ("change", "movement"))])
    frame["suppressed"] = frame["suppressed"].fillna(False).astype(bool)
    explained = frame["detail"].fillna("").str.startswith(NOT_CALCULATED)
    frame = frame[frame["value"].notna() | frame["suppressed"] | explained]
    shown = _movement(frame[~frame["suppressed"]]) if len(frame) else frame
    frame = pd.concat([shown, frame[frame["suppressed"]]], ignore_index=True)
    if "change" not in frame:
        frame = frame.assign(change=np.nan, movement=None)
    frame["indicator_name"] = frame["indicator"].map(lambda i: BY_ID[i].name)
    frame["unit"] = frame["indicator"].map(lambda i: BY_ID[i].unit)
    order = {ind: i for i, ind in enumerate(BY_ID)}
    measure_order = {m: i for i, m in enumerate(MEASURES)}
    frame = frame.assign(
        _i=frame["indicator"].map(order), _m=frame["measure"].map(measure_order)
    ).sort_values(["_i", "_m", "period"])
    return frame[COLUMNS].reset_index(drop=True)
