"""Pooled periods: indicators over several consecutive years, so small areas get a value.

Checked against the single years' own figures (a window's counts are their sums), a life table
computed by hand from the Parquet files, and the published single years (a window publishes
only what they do)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carepool.errors import IndicatorError
from carepool.indicators import INDICATORS, Method, indicator_table
from carepool.indicators.pooling import Window, pooled_pattern, windows
from carepool.stats import life_table
from carepool.warehouse import Warehouse, connect, read_warehouse_table
from carepool.years import days_in

FIRST, SECOND = "2024-25", "2025-26"
BOTH = f"{FIRST} to {SECOND}"
LIFE_EXPECTANCY = ["life_expectancy_male", "life_expectancy_female"]
KEYS = ["indicator", "level", "place"]


@pytest.fixture(scope="module")
def wh(small_warehouse: Path) -> Iterator[Warehouse]:
    with connect(warehouse_dir=small_warehouse) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def three(three_year_warehouse: Path) -> Iterator[Warehouse]:
    with connect(warehouse_dir=three_year_warehouse) as warehouse:
        yield warehouse


def test_windows_roll_over_consecutive_years() -> None:
    years = ["2022-23", "2023-24", "2024-25", "2025-26"]
    assert [w.label for w in windows(years, 3)] == [
        "2022-23 to 2024-25",
        "2023-24 to 2025-26",
    ]
    assert windows(years, 1) == [Window((y,)) for y in years]
    assert windows(["2022-23", "2024-25"], 2) == []  # not consecutive: nothing to pool


def test_most_neighbourhoods_get_a_life_expectancy_over_pooled_years(three: Warehouse) -> None:
    """No MSOA of about 2,000 people of a sex has a life expectancy in any single year (a life
    table needs more than 5,000 person-years); over three pooled years most do, published."""
    single = indicator_table(three, indicators=LIFE_EXPECTANCY, levels=["msoa"])
    assert single["value"].notna().sum() == 0
    pooled = indicator_table(three, indicators=LIFE_EXPECTANCY, levels=["msoa"], pool=3)
    assert set(pooled["period"]) == {"2024-25 to 2026-27"}
    assert (pooled["pooled_years"] == 3).all()
    for indicator, rows in pooled.groupby("indicator"):
        assert rows["value"].notna().mean() > 0.6, indicator
        assert len(rows) == single[single["indicator"] == indicator]["place"].nunique()
    shown = pooled[pooled["value"].notna()]
    assert shown["value"].between(65, 95).all()
    assert (shown["lower"] < shown["value"]).all()
    assert (shown["value"] < shown["upper"]).all()
    assert (pooled["trend"] == "cannot be calculated").all()


def _summed(single: pd.DataFrame, years: list[str]) -> pd.DataFrame:
    rows = single[single["period"].isin(years)]
    return rows.groupby(KEYS)[["numerator", "denominator"]].sum()


def test_pooled_counts_are_the_sums_of_the_single_years(wh: Warehouse) -> None:
    """Every indicator's pooled numerator and denominator are the sums of its years' (those
    with data: admissions need the year before, so pool only the second year)."""
    levels = ["region", "lad", "msoa"]
    single = indicator_table(wh, levels=levels, rule=None)
    pooled = indicator_table(wh, levels=levels, rule=None, pool=2).set_index(KEYS)
    assert set(pooled["period"]) == {BOTH}
    assert set(pooled.index.get_level_values("indicator")) == {i.id for i in INDICATORS}
    expected = _summed(single, [FIRST, SECOND])
    got = pooled[["numerator", "denominator"]].astype(float)
    np.testing.assert_allclose(got, expected.loc[got.index], rtol=1e-9)
    for indicator in INDICATORS:
        rows = pooled.loc[indicator.id]
        assert (rows["pooled_years"] == (1 if indicator.needs_previous_year else 2)).all()
        if indicator.method is Method.SHARE_OF_SPEND:  # the share of the pooled spend
            share = rows["numerator"] / rows["denominator"] * indicator.multiplier
            np.testing.assert_allclose(rows["value"], share, rtol=1e-9)


def test_pooled_life_expectancy_is_the_life_table_of_the_pooled_bands(
    wh: Warehouse, small_warehouse: Path
) -> None:
    """Deaths and person-years summed band by band over both years (each year's days lived
    over that year's days), then one life table."""
    person_year = read_warehouse_table(small_warehouse, "person_year").to_pandas()
    rows = person_year[person_year["sex"] == "male"]
    band = life_table.band_index(rows["age"].to_numpy())
    deaths = np.bincount(band, weights=rows["died"].to_numpy(float), minlength=20)
    lived = rows["days_alive"].to_numpy(float) / rows["year"].map(days_in).to_numpy(float)
    years = np.bincount(band, weights=lived, minlength=20)
    expected = life_table.life_expectancy(deaths, years)
    got = indicator_table(
        wh, indicators=["life_expectancy_male"], levels=["region"], rule=None, pool=2
    ).iloc[0]
    assert got["value"] == pytest.approx(expected.at_birth)
    assert got["lower"] == pytest.approx(float(expected.limits[0.95][0][0]))


def test_a_window_publishes_only_what_its_years_publish(three: Warehouse) -> None:
    """A window's cell is hidden where any of its years' is, and its counts are the sums of
    the years' published counts."""
    levels = ["lsoa", "msoa"]
    ids = ["u75_mortality_all_causes", "breast_screening_coverage", "life_expectancy_female"]
    single = indicator_table(three, indicators=ids, levels=levels)
    pooled = indicator_table(three, indicators=ids, levels=levels, pool=2).set_index(
        [*KEYS, "period"]
    )
    assert pooled["suppressed"].any()
    assert not pooled["suppressed"].all()
    for window in windows(["2024-25", "2025-26", "2026-27"], 2):
        years = single[single["period"].isin(window.years)]
        rows = pooled.xs(window.label, level="period")
        hidden = years.groupby(KEYS)["suppressed"].any()
        assert (rows["suppressed"] == hidden.loc[rows.index]).all()
        shown = rows[~rows["suppressed"]]
        sums = years.groupby(KEYS)[["numerator", "denominator"]].sum().loc[shown.index]
        np.testing.assert_array_equal(shown["numerator"].astype(float), sums["numerator"])
        np.testing.assert_array_equal(shown["denominator"].astype(float), sums["denominator"])
        assert rows.loc[rows["suppressed"], "value"].isna().all()


def test_region_benchmark_is_the_region_pooled(wh: Warehouse) -> None:
    pooled = indicator_table(wh, indicators=["u75_mortality_all_causes"], pool=2)
    region = pooled[pooled["level"] == "region"].iloc[0]
    assert (pooled["region_value"] == region["value"]).all()
    assert pooled["england_period"].notna().all()  # England's own period, not pooled
    assert any("England's value" in note for note in pooled.attrs["notes"])


@pytest.mark.parametrize("pool", [0, -1, 3])
def test_a_pool_outside_the_model_years_is_refused(wh: Warehouse, pool: int) -> None:
    with pytest.raises(IndicatorError, match=rf"--pool {pool}: expected 1 to 2 years"):
        indicator_table(wh, pool=pool)


def test_a_year_no_window_ends_in_is_refused(wh: Warehouse) -> None:
    with pytest.raises(IndicatorError, match=r"no 2-year period ends in 2024-25.*2025-26"):
        indicator_table(wh, years=["2024"], pool=2)


def test_the_worked_example() -> None:
    """docs/methods/pooled-periods.md: place A has 11 and 1 deaths, B 12 and 9. Year 2 at A is
    hidden, so A's window is; B's is the sum of its shown years."""
    single = pd.DataFrame(
        {
            "indicator": "u75_mortality_all_causes",
            "level": "lsoa",
            "place_code": ["A", "A", "B", "B"],
            "year": [FIRST, SECOND, FIRST, SECOND],
            "numerator": pd.array([10, None, 10, 10], dtype="Int64"),
            "denominator": [800.0, None, 900.0, 905.0],
            "suppressed": [False, True, False, False],
        }
    )
    (deaths,) = [i for i in INDICATORS if i.id == "u75_mortality_all_causes"]
    window = pooled_pattern(single, windows([FIRST, SECOND], 2), [deaths], [FIRST, SECOND])
    assert list(window["place_code"]) == ["A", "B"]
    assert set(window["year"]) == {BOTH}
    assert list(window["suppressed"]) == [True, False]
    assert window["numerator"].isna().tolist() == [True, False]
    assert window["numerator"].iloc[1] == 20  # 10 + 10, as published
    assert window["denominator"].iloc[1] == 1805.0
    assert pd.isna(window["denominator"].iloc[0])
