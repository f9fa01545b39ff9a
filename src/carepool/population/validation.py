"""``carepool validate``: the model against published figures, each with a tolerance.

Every target is read from the vendored reference files, never typed in here. Tolerances say
how far a synthetic model may reasonably sit from a published figure (sampling noise, the gap
between a national figure and Greater Manchester, the scope of the figure); docs/data-card.md
gives the reasoning for each.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import ibis.expr.types as ir
import numpy as np
import pandas as pd

from carepool.ages import STANDARD
from carepool.errors import ReferenceDataError
from carepool.geography import combined_authorities
from carepool.population.calibration import LE_PERIOD, published_life_expectancy
from carepool.reference import read_reference
from carepool.stats import life_expectancy, z_value
from carepool.warehouse import Tables

#: QOF registers checked: (condition, card row, lowest age of the register's denominator).
PREVALENCE_CHECKS = (
    ("hypertension", "hypertension_QOF_register", 0),
    ("diabetes", "diabetes_QOF_register", 17),
    ("copd", "copd_QOF_register", 0),
    ("chd", "chd_QOF_register", 0),
    ("dementia", "dementia_QOF_register", 0),
    ("smi", "smi_QOF_register", 0),
    ("learning_disability", "learning_disability_QOF_register", 0),
)
#: Checks whose target the generator was calibrated to: they confirm the calibration held
#: through the simulation, not that the model agrees with data it was never given.
CALIBRATED = (
    "life_expectancy_male",
    "life_expectancy_female",
    "life_expectancy_gap",
    "prevalence_hypertension",
    "prevalence_diabetes",
    "prevalence_copd",
    "prevalence_chd",
    "prevalence_dementia",
    "prevalence_smi",
    "prevalence_learning_disability",
    "prevalence_depression",
    "social_care_clients_per_1000",
)
PREVALENCE_TOLERANCE = 0.20  # relative: national registers against a more deprived region
LE_TOLERANCE = 1.0  # years
LE_GAP_TOLERANCE = 1.5  # years: Q5 is a small share of GM, so its estimate is noisy
RATE_TOLERANCE = 0.20  # relative, for national activity rates against GM
GREATER_MANCHESTER = "E47000001"
ASC_TOLERANCE = 0.15  # relative
#: Self-funder share: England 37.0%; the band covers the published range of English regions
#: (North East 26.4% to South East 47.5%, ONS 2022-23), since the North West's was not found.
SELF_FUNDER_TOLERANCE = 10.6
COST_TOLERANCE = 0.25  # relative: the devolved budget's scope and price year differ


#: 1.96: a two-sided 95% band of the model's sampling error.
Z95 = z_value(0.95)


@dataclass(frozen=True)
class Check:
    """One comparison. ``model`` is None when the model is too small to estimate it; such a
    check fails (a figure that cannot be estimated has not been validated).

    The pass band is the ``structural`` tolerance (how far a sound model may sit from the
    figure, for the reasons docs/data-card.md gives) plus 1.96 times the model's own
    ``sampling_se`` at the scale it was built, so a small build passes or fails on substance,
    not on noise (docs/methods/validation.md).
    """

    check: str
    model: float | None
    target: float
    structural: float
    unit: str
    source: str
    sampling_se: float | None = None

    @property
    def tolerance(self) -> float:
        """The pass band: the structural tolerance plus 1.96 sampling standard errors."""
        return self.structural + Z95 * (self.sampling_se or 0.0)

    @property
    def basis(self) -> str:
        """``calibrated`` if the model was tuned to this target (the check then shows the
        tuning held), ``independent`` if the model was not told this number."""
        return "calibrated" if self.check.startswith(CALIBRATED) else "independent"

    @property
    def ok(self) -> bool:
        if self.model is None:
            return False
        return bool(abs(self.model - self.target) <= self.tolerance + 1e-12)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["model"] = None if self.model is None else round(self.model, 3)
        data["target"] = round(self.target, 3)
        data["structural"] = round(self.structural, 3)
        data["sampling_se"] = None if self.sampling_se is None else round(self.sampling_se, 4)
        data["tolerance"] = round(self.tolerance, 3)
        data["ok"] = self.ok
        data["basis"] = self.basis
        return data


def _card_row(key: str, where: dict[str, str]) -> pd.Series:
    frame = read_reference(key).to_pandas()
    for col, val in where.items():
        frame = frame[frame[col].astype(str) == val]
    if len(frame) != 1:
        raise ReferenceDataError(f"{key}: expected one row for {where}, found {len(frame)}")
    row: pd.Series = frame.iloc[0]
    return row


def recalled(key: str, where: dict[str, str]) -> bool:
    """Whether the rates card says this figure was recalled rather than read from its
    source: such a figure may still seed the model, but validating against it proves nothing,
    so no check is made against it."""
    row = _card_row(key, where)
    said = f"{row.get('source', '')} {row.get('notes', '')}".lower()
    return str(row.get("estimated", "false")).lower() == "true" and said_recalled(said)


def said_recalled(text: str) -> bool:
    """Whether a rates-card note says its figure was recalled: the word itself, not part of
    another word and not denied ("not recalled")."""
    return re.search(r"(?<!not )\brecalled\b", text.lower()) is not None


def _card_value(key: str, where: dict[str, str]) -> tuple[float, str]:
    """A target from a vendored file, and its source; figures the rates card marks as
    estimated (derived or judged) say so in the source."""
    row = _card_row(key, where)
    source = str(row.get("source", key))
    if str(row.get("estimated", "false")).lower() == "true":
        source += " [estimated in the rates card: " + str(row.get("notes", "")) + "]"
    return float(row["value"]), source


def _life_expectancy(frame: pd.DataFrame) -> tuple[float | None, float | None]:
    """Life expectancy at birth and its standard error (Chiang II, from the 95% interval),
    or None where public-health rules give none (too few people, an empty band, or a 95%
    interval wider than 20 years)."""
    deaths = np.zeros(len(STANDARD))
    years = np.zeros(len(STANDARD))
    bands = frame["band"].to_numpy(dtype=np.int64)
    np.add.at(deaths, bands, frame["deaths"].to_numpy(dtype=np.float64))
    np.add.at(years, bands, frame["person_years"].to_numpy(dtype=np.float64))
    table = life_expectancy(deaths, years, confidence=0.95)
    if np.isnan(table.at_birth):
        return None, None
    lower, upper = table.limits[0.95]
    return table.at_birth, float(upper[0] - lower[0]) / (2 * Z95)


def _share_se(p: float, n: float, per: float) -> float | None:
    """The binomial standard error of a share ``p`` of ``n`` people, per ``per`` people."""
    return float(np.sqrt(p * (1.0 - p) / n)) * per if n > 0 else None


def _ratio(numerator: Any, denominator: Any) -> Any:
    return numerator.cast("int64").sum().cast("float64") / denominator.cast("int64").sum()


def run_checks(engine: Tables, lad_codes: Sequence[str], first_year: str) -> list[Check]:
    """Compare the warehouse's model with every published target that applies to it."""
    py = engine.table("person_year")
    checks = _life_expectancy_checks(engine, py, lad_codes)
    values = _first_year_measures(engine, py.filter(py.year == first_year))
    checks += _emergency_admissions_check(values)
    checks += _prevalence_checks(values, engine, lad_codes, first_year)
    checks += _social_care_checks(values)
    if set(lad_codes) <= _greater_manchester():  # the only published budget is GM's
        checks.append(_cost_per_head_check(values))
    return checks


def _greater_manchester() -> set[str]:
    ca = combined_authorities()
    return set(ca.loc[ca["cauth23_code"] == GREATER_MANCHESTER, "lad23_code"].astype(str))


def _life_expectancy_checks(engine: Tables, py: ir.Table, lad_codes: Sequence[str]) -> list[Check]:
    """Life expectancy by sex, and the gap between the most and least deprived quintiles."""
    band = STANDARD.index_expr(py.age)
    deaths = engine.to_pandas(
        py.group_by([py.sex, py.imd_quintile, py.lad_code, band.name("band")]).aggregate(
            deaths=py.died.cast("int64").sum(),
            person_years=(py.days_alive.cast("float64") / 365.25).sum(),
        )
    )
    published = published_life_expectancy(LE_PERIOD)
    checks: list[Check] = []
    for sex in ("male", "female"):
        of_sex = deaths[deaths["sex"] == sex]
        weights = of_sex.groupby("lad_code")["person_years"].sum()
        have = [c for c in lad_codes if (c, sex) in published]
        if have:
            target = sum(published[(c, sex)] * weights.get(c, 0.0) for c in have) / sum(
                weights.get(c, 0.0) for c in have
            )
            value, se = _life_expectancy(of_sex)
            checks.append(
                Check(
                    f"life_expectancy_{sex}",
                    value,
                    target,
                    LE_TOLERANCE,
                    "years",
                    f"OHID Fingertips life expectancy at birth {LE_PERIOD}, local authorities "
                    "weighted by modelled person-years",
                    se,
                )
            )
        checks.append(_life_expectancy_gap_check(of_sex, sex))
    return checks


def _life_expectancy_gap_check(of_sex: pd.DataFrame, sex: str) -> Check:
    """Quintile 5 against quintile 1, for the published decile gap scaled to quintiles."""

    def decile(level: str) -> tuple[float, str]:
        return _card_value(
            "rates_deprivation",
            {
                "measure": "life_expectancy_at_birth",
                "sex": sex,
                "year": "2018-2020",
                "deprivation_level": level,
            },
        )

    d1, src = decile("1 (most deprived)")
    d10, _ = decile("10 (least deprived)")
    le_q1, se_q1 = _life_expectancy(of_sex[of_sex["imd_quintile"] == 1])
    le_q5, se_q5 = _life_expectancy(of_sex[of_sex["imd_quintile"] == 5])
    gap, se = None, None
    if le_q1 is not None and le_q5 is not None:  # each estimate comes with its error
        gap, se = le_q5 - le_q1, float(np.hypot(se_q1 or 0.0, se_q5 or 0.0))
    return Check(
        f"life_expectancy_gap_q5_q1_{sex}",
        gap,
        (d10 - d1) * 8.0 / 9.0,
        LE_GAP_TOLERANCE,
        "years",
        "decile 1 vs 10 gap x 8/9 (quintile midpoints under a linear gradient); " + src,
        se,
    )


def _first_year_measures(engine: Tables, year1: ir.Table) -> pd.Series:
    """Every first-year total and ratio the other checks compare, in one query."""
    adult65 = year1.age >= 65
    working = (year1.age >= 18) & (year1.age <= 64)
    care_home = year1.asc_setting.isin(["residential", "nursing"])
    council = year1.asc_funding == "council_funded"
    cost = (year1.nhs_cost_pence + year1.council_cost_pence).cast("float64")
    admissions = year1.emergency_admissions.cast("float64")
    measures: dict[str, Any] = {
        "emergency": admissions.sum(),
        # for the standard errors: sums of squares, and each share's denominator
        "emergency_squares": (admissions * admissions).sum(),
        "cost_sd": cost.std(),
        "n_adults": (year1.age >= 18).cast("int64").sum(),
        "n65": adult65.cast("int64").sum(),
        "n1864": working.cast("int64").sum(),
        "n_care_home": care_home.cast("int64").sum(),
        "person_years": (year1.days_alive.cast("float64") / 365.25).sum(),
        "residents": year1.count(),
        "lts65": _ratio(council & adult65, adult65),
        "lts1864": _ratio(council & working, working),
        "self_funder": _ratio(care_home & (year1.asc_funding == "self_funder"), care_home),
        "cost": (year1.nhs_cost_pence + year1.council_cost_pence).sum().cast("float64"),
        "depression": _ratio(year1.has_depression & (year1.age >= 18), year1.age >= 18),
    }
    for condition, _, min_age in PREVALENCE_CHECKS:
        measures[f"prev_{condition}"] = _ratio(
            year1[f"has_{condition}"] & (year1.age >= min_age), year1.age >= min_age
        )
        measures[f"n_{condition}"] = (year1.age >= min_age).cast("int64").sum()
    values: pd.Series = engine.to_pandas(year1.aggregate(**measures)).iloc[0]
    return values


def _emergency_admissions_check(values: pd.Series) -> list[Check]:
    where = {"service": "emergency_admissions", "age_band": "all"}
    if recalled("rates_utilisation", where):
        return []
    rate, src = _card_value("rates_utilisation", where)
    person_years = float(values["person_years"])
    model_rate = float(values["emergency"]) * 1000.0 / person_years
    # a sum of people's counts: its variance is at most the sum of their squares
    se = float(np.sqrt(float(values["emergency_squares"]))) * 1000.0 / person_years
    return [
        Check(
            "emergency_admissions_per_1000",
            model_rate,
            rate,
            rate * RATE_TOLERANCE,
            "per 1,000 person-years",
            src,
            se,
        )
    ]


def _prevalence_checks(
    values: pd.Series, engine: Tables, lad_codes: Sequence[str], first_year: str
) -> list[Check]:
    """The QOF registers, then depression among adults."""
    checks = []
    for condition, card_row, _ in PREVALENCE_CHECKS:
        if recalled("rates_prevalence", {"condition": card_row}):
            continue
        target, src = _card_value("rates_prevalence", {"condition": card_row})
        p = float(values[f"prev_{condition}"])
        checks.append(
            Check(
                f"prevalence_{condition}",
                p * 100.0,
                target,
                target * PREVALENCE_TOLERANCE,
                "% of residents on the register",
                src,
                _share_se(p, float(values[f"n_{condition}"]), 100.0),
            )
        )
    dep_target, dep_source = _depression_target(lad_codes, engine, first_year)
    depressed = float(values["depression"])
    checks.append(
        Check(
            "prevalence_depression_18plus",
            depressed * 100.0,
            dep_target,
            dep_target * PREVALENCE_TOLERANCE,
            "% of adults 18+",
            dep_source,
            _share_se(depressed, float(values["n_adults"]), 100.0),
        )
    )
    return checks


def _social_care_checks(values: pd.Series) -> list[Check]:
    """Council-funded long-term clients by age, and the care home self-funder share."""
    checks = []
    for key, band_name, n in (("lts65", "65+", "n65"), ("lts1864", "18-64", "n1864")):
        target, src = _card_value(
            "rates_utilisation", {"service": "asc_long_term_support_clients", "age_band": band_name}
        )
        checks.append(
            Check(
                f"social_care_clients_per_1000_{band_name}",
                float(values[key]) * 1000.0,
                target,
                target * ASC_TOLERANCE,
                "council-funded long-term clients per 1,000",
                src,
                _share_se(float(values[key]), float(values[n]), 1000.0),
            )
        )
    share, src = _card_value(
        "rates_utilisation",
        {
            "service": "care_home_self_funder_share",
            "year": "Mar 2022-Feb 2023",
            "population": "England",
        },
    )
    checks.append(
        Check(
            "care_home_self_funder_share",
            float(values["self_funder"]) * 100.0,
            share,
            SELF_FUNDER_TOLERANCE,
            "% of care home residents",
            src,
            _share_se(float(values["self_funder"]), float(values["n_care_home"]), 100.0),
        )
    )
    return checks


def _cost_per_head_check(values: pd.Series) -> Check:
    budget, b_src = _card_value("gm_finance_facts", {"fact": "devolved_budget"})
    people, _ = _card_value("gm_finance_facts", {"fact": "resident_population_census_2021"})
    per_head = budget * 1e6 / people
    residents = float(values["residents"])
    model_cost = float(values["cost"]) / 100.0 / residents
    return Check(
        "public_cost_per_head",
        model_cost,
        per_head,
        per_head * COST_TOLERANCE,
        "GBP per resident a year",
        (
            "public money only (NHS + councils) vs the GM devolved health and care budget "
            "(about £6bn, 2015/16 prices; the model is at 2024/25 prices and covers fewer "
            f"services) / Census 2021 residents ({b_src})"
        ),
        float(values["cost_sd"]) / 100.0 / np.sqrt(residents),
    )


def _depression_target(
    lad_codes: Sequence[str], engine: Tables, first_year: str
) -> tuple[float, str]:
    """Depression QOF prevalence 2022/23: the region's authorities weighted by adults, or
    England's where none of them is published."""
    frame = read_reference("rates_gm_targets").to_pandas()
    rows = frame[
        (frame["indicator"] == "depression_QOF_prevalence_18plus") & (frame["period"] == "2022/23")
    ]
    local = rows[rows["area_code"].isin(list(lad_codes))]
    source = str(rows["source"].iloc[0])
    if local.empty:
        england = rows[rows["area_code"] == "E92000001"]
        return float(england["value"].iloc[0]), source + " (England)"
    py = engine.table("person_year")
    grown = py.filter((py.year == first_year) & (py.age >= 18))
    adults = engine.to_pandas(grown.group_by("lad_code").aggregate(adults=grown.count())).set_index(
        "lad_code"
    )["adults"]
    weights = local["area_code"].map(adults).fillna(0.0).astype(float)
    return float((local["value"].astype(float) * weights).sum() / weights.sum()), source
