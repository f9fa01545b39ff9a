"""Indicator definitions: complete, consistent with the measures, benchmarks resolvable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from carepool.indicators import INDICATORS
from carepool.indicators.benchmarks import compare, england_values, period_end, trend
from carepool.indicators.compute import check_ages
from carepool.indicators.definitions import Indicator, Method, Polarity, Table
from carepool.indicators.measures import ALL_MEASURES, DERIVED_MEASURES, PERSON_MEASURES

REQUIRED = {
    "life_expectancy_male",
    "life_expectancy_female",
    "u75_mortality_all_causes",
    "u75_mortality_cancer",
    "u75_mortality_cvd",
    "emergency_admissions",
    "ae_attendances",
    "breast_screening_coverage",
    "cervical_screening_coverage_25_49",
    "cervical_screening_coverage_50_64",
    "bowel_screening_coverage",
    "cancer_early_stage",
    "talking_therapies_access",
    "talking_therapies_recovery",
    "ld_health_checks",
    "delayed_discharge_days",
    "care_home_admissions_65plus",
    "reablement_at_home_91_days",
    "care_closer_to_home",
    "self_funder_share_care_homes",
}


def test_the_required_indicators_are_defined_once_each() -> None:
    ids = [i.id for i in INDICATORS]
    assert len(ids) == len(set(ids))
    assert set(ids) >= REQUIRED


@pytest.mark.parametrize("indicator", INDICATORS, ids=lambda i: i.id)
def test_each_definition_is_complete_and_consistent(indicator: Indicator) -> None:
    for measure in (indicator.numerator, indicator.denominator):
        assert DERIVED_MEASURES.get(measure, measure) in ALL_MEASURES, measure
    person = {m.name for m in PERSON_MEASURES}
    on_person_year = DERIVED_MEASURES.get(indicator.numerator, indicator.numerator) in person
    assert on_person_year == (indicator.table is Table.PERSON_YEAR)
    check_ages(indicator)
    assert indicator.name
    assert indicator.unit
    assert indicator.source
    if indicator.method in (Method.DSR, Method.LIFE_EXPECTANCY):
        assert indicator.table is Table.PERSON_YEAR
    described = indicator.as_dict()
    assert described["method"] == indicator.method.value
    assert described["polarity"] == indicator.polarity.value


def test_england_values_come_from_the_vendored_data() -> None:
    values = england_values()
    with_benchmark = {i.id for i in INDICATORS if i.england is not None}
    assert set(values) == with_benchmark
    assert values["life_expectancy_male"].value == pytest.approx(79.7)  # OHID, 2023-25
    assert values["life_expectancy_male"].period == "2023-25"  # "2023 - 25" in the source
    # a standardised rate from ONS's 2018-20 life table: OHID published 336 for 2020
    assert 300 < values["u75_mortality_all_causes"].value < 380
    assert values["care_home_admissions_65plus"].period == "2023-24"
    assert 3_000 < values["talking_therapies_access"].value < 5_000


@pytest.mark.parametrize(
    ("text", "year"),
    [("2022 - 24", 2024), ("2023/24", 2024), ("Mar 2022-Feb 2023", 2023), ("2019-20", 2020),
     ("2023", 2023), ("Sep 2023-Aug 2024 (rolling)", 2024), ("standard", 0)],
)  # fmt: skip
def test_period_end(text: str, year: int) -> None:
    assert period_end(text) == year


def test_comparison_respects_polarity() -> None:
    lower = np.array([10.0, 1.0, 1.0, np.nan])
    upper = np.array([12.0, 3.0, 12.0, np.nan])
    bench = np.array([5.0, 5.0, 5.0, 5.0])
    assert list(compare(lower, upper, bench, Polarity.HIGHER_IS_BETTER)) == [
        "better", "worse", "similar", "not compared"
    ]  # fmt: skip
    assert list(compare(lower, upper, bench, Polarity.LOWER_IS_BETTER))[:2] == ["worse", "better"]
    assert list(compare(lower, upper, bench, Polarity.NO_JUDGEMENT))[:2] == ["higher", "lower"]


def test_trend_is_significant_only_beyond_the_combined_error() -> None:
    frame = pd.DataFrame(
        {
            "level": ["lad"] * 4,
            "place_code": ["A", "A", "B", "B"],
            "year": ["2024-25", "2025-26"] * 2,
            "value": [50.0, 60.0, 50.0, 51.0],
            "lower": [48.0, 58.0, 48.0, 49.0],
            "upper": [52.0, 62.0, 52.0, 53.0],
        }
    )
    better = next(i for i in INDICATORS if i.polarity is Polarity.HIGHER_IS_BETTER)
    worse = next(i for i in INDICATORS if i.polarity is Polarity.LOWER_IS_BETTER)
    assert list(trend(frame, better)) == [
        "cannot be calculated", "improving", "cannot be calculated", "no significant change"
    ]  # fmt: skip
    assert trend(frame, worse).iloc[1] == "worsening"


def test_trend_looks_over_the_last_five_periods() -> None:
    """A steady rise whose steps are each within the error is a significant trend over five
    periods (as Fingertips' recent trend), though no two neighbouring periods differ; and a
    period six back no longer counts."""
    years = ["2022-23", "2023-24", "2024-25", "2025-26", "2026-27", "2027-28"]
    values = [50.0, 51.0, 52.0, 53.0, 54.0, 50.0]
    frame = pd.DataFrame(
        {
            "level": "lad",
            "place_code": "A",
            "year": years,
            "value": values,
            "lower": [v - 2.0 for v in values],
            "upper": [v + 2.0 for v in values],
        }
    )
    better = next(i for i in INDICATORS if i.polarity is Polarity.HIGHER_IS_BETTER)
    found = list(trend(frame, better))
    assert found[:3] == ["cannot be calculated", "no significant change", "no significant change"]
    assert found[3:5] == ["improving", "improving"]
    # the last window (2023-24 to 2027-28) rises then falls back: no trend
    assert found[5] == "no significant change"
    # two periods: the same test of their difference as before
    pair = frame.iloc[:2]
    assert list(trend(pair, better)) == ["cannot be calculated", "no significant change"]
