"""The model borough by borough against every published local figure vendored.

Every later capability trusts the model per borough, so each borough's figures are compared
with OHID's published values for the same borough (Fingertips, vendored for every English
council in ``phof_indicators_england``, and for Greater Manchester's in ``rates_gm_targets``):
life expectancy and depression prevalence (which the model is calibrated to), and the figures
it was never given — the slope index of inequality in life expectancy within each borough,
premature mortality relative to England and permanent care-home admissions. Any region is
checked council by council; depression and admissions only where their figures are vendored
(Greater Manchester).

**Tolerances that know the sample.** A check passes when the model is within its
*structural* tolerance (how far a sound synthetic model may sit from a published figure:
stated, with its reason, in :data:`MEASURES` and docs/data-card.md) plus 1.96 *sampling*
standard errors of the difference: the model's own at the scale it was built (from the
figure's 95% interval, computed by the indicator methods) and the published figure's
(:func:`published_error`). A model built at a twentieth of the population then passes or
fails on substance, not on noise. A figure the model is too small
to estimate at all (life expectancy of 5,000 people or fewer) is *not estimable at this
scale*: reported, not counted as a pass or a failure.

**Order as well as level.** For each measure with five or more published boroughs, the
Spearman rank correlation between the model's and the published values must reach
:data:`MIN_RANK_CORRELATION` — or, at a small scale, what a model equal to the published
values would reach at those sampling errors (the 2.5th percentile of its correlation over
:data:`~carepool.model.orders.RANK_DRAWS` simulated draws):
:class:`~carepool.model.orders.RankCheck`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from carepool.geography import english_region_of
from carepool.indicators import Z95, indicator_table, model_years, place_gaps
from carepool.model.inequality_across_england import slope_order
from carepool.model.orders import (
    MIN_RANKED,
    RankCheck,
    rank_check,
)
from carepool.model.premature_mortality import Elasticity, preventable_elasticity
from carepool.reference import read_reference
from carepool.warehouse import Tables

CALIBRATED, INDEPENDENT = "calibrated", "independent"


@dataclass(frozen=True)
class Measure:
    """One published local figure and how the model's is read."""

    check: str
    title: str
    unit: str
    basis: str
    #: Structural tolerance, in ``unit`` (absolute) or as a share of the published value.
    tolerance: float
    relative: bool
    why: str
    #: Years of events behind the published figure, whose own sampling error then enters the
    #: band; ``None`` when it is not a sample of events (a register's count, a fitted index).
    published_years: float | None = None


@dataclass(frozen=True)
class BoroughCheck:
    """One borough's model figure against its published one."""

    check: str
    area_code: str
    area_name: str
    model: float | None
    sampling_se: float | None
    published: float
    structural: float
    unit: str
    period: str
    source: str
    basis: str
    #: The published figure's own sampling error (:func:`published_error`), if it has one.
    published_se: float | None = None

    @property
    def combined_se(self) -> float:
        """The sampling error of the difference between two independent estimates."""
        return float(np.hypot(self.sampling_se or 0.0, self.published_se or 0.0))

    @property
    def tolerance(self) -> float:
        """The pass band: the structural tolerance plus 1.96 standard errors of the difference
        (the model's sampling error and the published figure's)."""
        return self.structural + Z95 * self.combined_se

    @property
    def estimable(self) -> bool:
        return self.model is not None and bool(np.isfinite(self.model))

    @property
    def ok(self) -> bool | None:
        """Within the band; ``None`` when the model cannot estimate the figure at its scale."""
        if not self.estimable:
            return None
        return bool(abs(float(self.model) - self.published) <= self.tolerance + 1e-12)  # type: ignore[arg-type]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("model", "sampling_se", "published", "published_se", "structural"):
            value = data[key]
            data[key] = None if value is None or not np.isfinite(value) else round(value, 4)
        data["tolerance"] = round(self.tolerance, 4)
        data["ok"] = self.ok
        return data


@dataclass(frozen=True)
class BoroughValidation:
    checks: list[BoroughCheck]
    ranks: list[RankCheck]

    def counts(self) -> dict[str, int]:
        """How many checks are calibrated and how many independent (level and order)."""
        measures = {c.check: c.basis for c in self.checks} | {r.check: r.basis for r in self.ranks}
        bases = [c.basis for c in self.checks] + [r.basis for r in self.ranks]
        return {
            "calibrated": bases.count(CALIBRATED),
            "independent": bases.count(INDEPENDENT),
            "measures": len(measures),
        }

    @property
    def estimable(self) -> int:
        """Checks the model could estimate at its scale (level and order)."""
        return sum(c.ok is not None for c in self.checks) + sum(
            r.ok is not None for r in self.ranks
        )

    @property
    def ok(self) -> bool:
        """Every estimable check within its band and every order good enough."""
        return all(c.ok is not False for c in self.checks) and all(
            r.ok is not False for r in self.ranks
        )


FINGERTIPS = "OHID Fingertips (Public Health Outcomes Framework), vendored phof_indicators_england"
LE_PERIOD, SII_PERIOD, U75_PERIOD, DEPRESSION_PERIOD = "2022 - 24", "2022 - 24", "2024", "2022/23"
#: The published admissions swing from year to year (Trafford: 545 in 2022/23, 780 in
#: 2023/24), so the check is against the mean of the two published years.
ADMISSIONS_PERIODS = ("2022/23", "2023/24")
ADMISSIONS_PERIOD = "2022/23-2023/24"


MEASURES: dict[str, Measure] = {
    m.check: m
    for m in (
        *(
            Measure(
                f"life_expectancy_{sex}",
                f"Life expectancy at birth, {sex}s",
                "years",
                CALIBRATED,
                1.0,
                False,
                "each borough's mortality is calibrated to this figure; a year covers the "
                "difference between the published three-year period and the model's years",
                published_years=3,
            )
            for sex in ("male", "female")
        ),
        *(
            Measure(
                f"life_expectancy_sii_{sex}",
                f"Inequality in life expectancy within the borough (SII), {sex}s",
                "years",
                INDEPENDENT,
                2.0,
                False,
                "the model is given national deprivation gradients, not each borough's; two "
                "years is a quarter of a typical borough's published slope",
                published_years=3,
            )
            for sex in ("male", "female")
        ),
        Measure(
            "u75_mortality_vs_england",
            "Premature (under 75) mortality relative to England",
            "ratio to England",
            INDEPENDENT,
            0.15,
            False,
            "the model's all-cause rate over England's, carried to the preventable-causes "
            "scale by the elasticity fitted on the English authorities outside the region "
            "(preventable causes are more unequal than all causes), against the published "
            "preventable-causes rate over England's; 0.15 is about a third of the published "
            "spread between the boroughs",
            published_years=1,
        ),
        Measure(
            "depression_prevalence_18plus",
            "Depression prevalence, adults 18+ (QOF)",
            "% of adults 18+",
            CALIBRATED,
            0.20,
            True,
            "each borough's register is calibrated to this figure (local recording is not "
            "national rates times deprivation); 20% of the published value",
        ),
        Measure(
            "care_home_admissions_65plus",
            "Permanent care-home admissions, 65+",
            "per 100,000 aged 65+",
            INDEPENDENT,
            0.25,
            True,
            "ASCOF's council-supported admissions, self-funders counted when their capital "
            "runs down; councils record admissions differently (short stays that become "
            "permanent) and a borough's figure swings from year to year, so the published "
            "value is the mean of two years; 25% of it",
            published_years=len(ADMISSIONS_PERIODS),
        ),
    )
}


def _published(indicator: str, sex: str, period: str) -> pd.DataFrame:
    """Rows of the vendored Fingertips extract for every English council and England."""
    frame = read_reference("phof_indicators_england").to_pandas()
    rows = frame[
        (frame["indicator_id"] == indicator)
        & (frame["sex"].str.lower() == sex)
        & (frame["period"].astype(str).str.replace(" ", "") == period.replace(" ", ""))
    ]
    out: pd.DataFrame = rows.assign(value=rows["value"].astype(float))
    return out


def _targets(indicator: str, period: str) -> pd.DataFrame:
    frame = read_reference("rates_gm_targets").to_pandas()
    rows = frame[(frame["indicator"] == indicator) & (frame["period"] == period)]
    out: pd.DataFrame = rows.assign(value=rows["value"].astype(float))
    return out


@dataclass(frozen=True)
class Published:
    """One borough's published value."""

    area_code: str
    value: float
    source: str


def _each(frame: pd.DataFrame) -> list[Published]:
    sources = frame["source"] if "source" in frame else pd.Series(FINGERTIPS, index=frame.index)
    return [
        Published(str(code), float(value), str(source))
        for code, value, source in zip(frame["area_code"], frame["value"], sources, strict=True)
    ]


def _se(lower: Any, upper: Any) -> float | None:
    if lower is None or upper is None or pd.isna(lower) or pd.isna(upper):
        return None
    return float(upper - lower) / (2 * Z95)


def _latest(frame: pd.DataFrame) -> pd.DataFrame:
    """The model's last period."""
    if frame.empty:
        return frame
    last: pd.DataFrame = frame[frame["period"] == frame["period"].max()]
    return last


def measured(
    measure: Measure,
    code: str,
    name: str,
    model: float | None,
    se: float | None,
    published: float,
    period: str,
    source: str,
) -> BoroughCheck:
    """One borough's check of ``measure``, its structural tolerance from the measure's."""
    structural = measure.tolerance * abs(published) if measure.relative else measure.tolerance
    return BoroughCheck(
        measure.check,
        code,
        name,
        model,
        se,
        published,
        structural,
        measure.unit,
        period,
        source,
        measure.basis,
    )


def _against(
    measure: Measure,
    rows: pd.DataFrame,
    published: pd.DataFrame,
    names: dict[str, str],
    period: str,
    source: str | None = None,
    scale: float = 1.0,
    published_scale: float = 1.0,
) -> list[BoroughCheck]:
    """Each borough's model figure (an indicator's latest ``rows``, by place) against its
    published one; ``scale`` and ``published_scale`` divide them (a ratio to England)."""
    mine = _latest(rows).set_index("place")
    checks = []
    for row in _each(published):
        if row.area_code not in names or row.area_code not in mine.index:
            continue
        value = _value(mine.loc[row.area_code, "value"])
        se = _se(mine.loc[row.area_code, "lower"], mine.loc[row.area_code, "upper"])
        checks.append(
            measured(
                measure,
                row.area_code,
                names[row.area_code],
                None if value is None else value / scale,
                None if se is None else se / scale,
                row.value / published_scale,
                period,
                source or row.source,
            )
        )
    return checks


def _life_expectancy(table: pd.DataFrame, names: dict[str, str]) -> list[BoroughCheck]:
    return [
        check
        for sex in ("male", "female")
        for check in _against(
            MEASURES[f"life_expectancy_{sex}"],
            table[table["indicator"] == f"life_expectancy_{sex}"],
            _published("life_expectancy_at_birth", sex, LE_PERIOD),
            names,
            LE_PERIOD,
            f"{FINGERTIPS}, life expectancy at birth",
        )
    ]


def _value(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _inequality(table: pd.DataFrame, names: dict[str, str]) -> list[BoroughCheck]:
    """The slope index of inequality in life expectancy across deciles local to each borough
    (its LSOAs ranked by deprivation, cut at tenths of its residents), as OHID computes it
    within a local authority."""
    published = {
        sex: _published("slope_index_of_inequality_life_expectancy", sex, SII_PERIOD)
        for sex in ("male", "female")
    }
    checks = []
    for code, name in names.items():
        mine = table[
            (table["place"].astype(str) == code)
            | table["place"].astype(str).str.startswith(f"{code}:")
        ]
        gaps = place_gaps(mine, code, local=True)
        for sex in ("male", "female"):
            measure = MEASURES[f"life_expectancy_sii_{sex}"]
            target = published[sex][published[sex]["area_code"] == code]
            if target.empty:
                continue
            sii = gaps[(gaps["indicator"] == f"life_expectancy_{sex}") & (gaps["measure"] == "sii")]
            sii = _latest(sii)
            row = sii.iloc[0] if len(sii) else None
            checks.append(
                measured(
                    measure,
                    code,
                    name,
                    None if row is None else _value(row["value"]),
                    None if row is None else _se(row["lower"], row["upper"]),
                    float(target["value"].iloc[0]),
                    SII_PERIOD,
                    f"{FINGERTIPS}, slope index of inequality in life expectancy at birth",
                )
            )
    return checks


def _premature(
    table: pd.DataFrame, names: dict[str, str], england_all_causes: float | None
) -> list[BoroughCheck]:
    """The model's all-cause premature mortality ratio to England, carried to the published
    preventable-causes scale (:mod:`carepool.model.premature_mortality`)."""
    published = _published("under75_mortality_preventable", "persons", U75_PERIOD)
    england = published[published["area_code"] == "E92000001"]
    if england.empty or not england_all_causes:
        return []
    checks = []
    for code, (bridge, outside) in _bridges(names).items():
        for check in _against(
            MEASURES["u75_mortality_vs_england"],
            table[table["indicator"] == "u75_mortality_all_causes"],
            published,
            {code: names[code]},
            U75_PERIOD,
            f"{FINGERTIPS}, under 75 mortality from causes considered preventable, over "
            f"England's; the model's all causes over England's all causes, raised to the "
            f"elasticity {bridge.beta:.2f} fitted on {bridge.authorities} English authorities "
            f"outside {outside} (residual sd {bridge.residual_sd:.3f} in logs)",
            scale=england_all_causes,
            published_scale=float(england["value"].iloc[0]),
        ):
            if check.model is not None and check.estimable:
                se = check.sampling_se
                check = replace(
                    check,
                    model=bridge.preventable(check.model),
                    sampling_se=None if se is None else bridge.preventable_se(check.model, se),
                )
            checks.append(check)
    return checks


def _bridges(names: dict[str, str]) -> dict[str, tuple[Elasticity, str]]:
    """Each council's bridge from all-cause to preventable premature mortality, and what it
    was fitted outside of: authorities whose published figures are not checked with it,
    those outside the modelled region or, where that leaves too few (a region of most of
    England), those outside the council's own English region."""
    whole = preventable_elasticity(frozenset(names))
    if whole is not None:
        return dict.fromkeys(names, (whole, "the modelled region"))
    bridges = {}
    for code in names:
        region = english_region_of(code)
        fitted = None if region is None else preventable_elasticity(frozenset(region.lad_codes))
        if region is not None and fitted is not None:
            bridges[code] = (fitted, region.name)
    return bridges


def _depression(engine: Tables, names: dict[str, str], year: str) -> list[BoroughCheck]:
    measure = MEASURES["depression_prevalence_18plus"]
    py = engine.table("person_year")
    adults = py.filter((py.year == year) & (py.age >= 18))
    counts = engine.to_pandas(
        adults.group_by("lad_code").aggregate(
            adults=adults.count(), depressed=adults.has_depression.cast("int64").sum()
        )
    )
    adults_by = dict(zip(counts["lad_code"], counts["adults"].astype(float), strict=True))
    depressed_by = dict(zip(counts["lad_code"], counts["depressed"].astype(float), strict=True))
    published = _targets("depression_QOF_prevalence_18plus", DEPRESSION_PERIOD)
    checks = []
    for row in _each(published):
        if row.area_code not in names or not adults_by.get(row.area_code):
            continue
        n = adults_by[row.area_code]
        p = depressed_by[row.area_code] / n
        checks.append(
            measured(
                measure,
                row.area_code,
                names[row.area_code],
                100 * p,
                100 * float(np.sqrt(p * (1 - p) / n)),
                row.value,
                DEPRESSION_PERIOD,
                str(row.source),
            )
        )
    return checks


def _admissions(table: pd.DataFrame, names: dict[str, str]) -> list[BoroughCheck]:
    """Council-supported permanent admissions 65+ against the mean of the published years in
    :data:`ADMISSIONS_PERIODS` (a borough needs a figure for each)."""
    years = [
        _targets("permanent_care_home_admissions_65plus", period) for period in ADMISSIONS_PERIODS
    ]
    both = pd.concat(years).groupby("area_code").filter(lambda g: len(g) == len(years))
    published = both.groupby("area_code", as_index=False).agg(
        value=("value", "mean"), source=("source", "first")
    )
    return _against(
        MEASURES["care_home_admissions_65plus"],
        table[table["indicator"] == "care_home_admissions_65plus"],
        published,
        names,
        ADMISSIONS_PERIOD,
        f"{published['source'].iloc[0] if len(published) else ''}; the mean of "
        f"{' and '.join(ADMISSIONS_PERIODS)}",
    )


def published_error(checks: Sequence[BoroughCheck], scale: float, pool: int) -> list[BoroughCheck]:
    """Each check with the published figure's own sampling error, where it has one.

    A published rate or life expectancy is itself an estimate from a borough's deaths or
    admissions over :attr:`Measure.published_years`. Its confidence interval is not in the
    vendored extract, so it is taken from the model's: a model built at ``scale`` over
    ``pool`` years counts ``scale × pool / published_years`` times the events of the published
    figure, so the published figure's standard error is the model's times the square root of
    that. At full scale the two errors are alike and the band widens by about √2 in its
    sampling part; at a small scale the model's error dominates."""
    years = {m.check: m.published_years for m in MEASURES.values()}
    out = []
    for check in checks:
        published_years = years.get(check.check)
        if published_years is None or check.sampling_se is None:
            out.append(check)
            continue
        ratio = float(np.sqrt(scale * pool / published_years))
        out.append(replace(check, published_se=check.sampling_se * ratio))
    return out


def borough_validation(
    engine: Tables,
    names: dict[str, str],
    year: str,
    more: Sequence[BoroughCheck] = (),
    scale: float = 1.0,
) -> BoroughValidation:
    """Every borough-level check for the boroughs in ``names`` (code → name), with
    depression counted in ``year`` (the model's last, as the indicators' latest period);
    ``more`` are checks made elsewhere (need per head, from the allocation), ordered too;
    ``scale`` is the share of the population the model was built at (1 for a partner's
    extract), from which the published figures' own sampling error is estimated."""
    wanted = [
        "life_expectancy_male",
        "life_expectancy_female",
        "u75_mortality_all_causes",
        "care_home_admissions_65plus",
    ]
    # every model year pooled: the within-borough deciles' life tables need the people
    pool = len(model_years(engine))
    figures = indicator_table(
        engine,
        indicators=wanted,
        levels=["lad", "lad_quintile", "lad_local_decile"],
        rule=None,
        pool=pool,
    )
    lad = figures[figures["level"] == "lad"]
    u75 = lad.loc[lad["indicator"] == "u75_mortality_all_causes", "england_value"].dropna()
    england_u75_all_causes = float(u75.iloc[0]) if len(u75) else None
    checks = [
        *_life_expectancy(lad, names),
        *_inequality(figures[figures["indicator"].str.startswith("life_expectancy")], names),
        *_premature(lad, names, england_u75_all_causes),
        *_depression(engine, names, year),
        *_admissions(lad, names),
        *more,
    ]
    checks = published_error(checks, scale, pool)
    ranks = []
    for check, basis in {c.check: c.basis for c in checks}.items():
        ranked = rank_check(check, basis, [c for c in checks if c.check == check])
        if ranked is not None:
            ranks.append(ranked)
    return BoroughValidation(checks, [*ranks, *_inequality_order_across_england(names)])


def _inequality_order_across_england(names: dict[str, str]) -> list[RankCheck]:
    """The method's order of within-authority inequality across England's authorities outside
    the region (:mod:`carepool.model.inequality_across_england`): expected values, so no
    sampling error lowers the bar."""
    return [
        RankCheck(f"life_expectancy_sii_{sex}_across_england", INDEPENDENT, n, rho, 1.0)
        for sex, (rho, n) in slope_order(frozenset(names)).items()
        if n >= MIN_RANKED
    ]
