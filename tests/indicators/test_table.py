"""The indicator table on a small built model, checked against sums taken straight from the
warehouse's Parquet files with pandas and the statistics applied by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carepool.errors import IndicatorError
from carepool.indicators import CONTRACT, INDICATORS, definitions, indicator_table
from carepool.indicators.compute import compute, counts
from carepool.indicators.cube import person_sums, spend_sums
from carepool.indicators.definitions import Indicator, Method, Polarity, Table
from carepool.indicators.levels import memberships
from carepool.indicators.table import COLUMNS
from carepool.stats import intervals, life_table, rates, standardised
from carepool.warehouse import read_warehouse_table
from carepool.warehouse.connection import Warehouse

MANCHESTER = "E08000003"
TRAFFORD = "E08000009"
FIRST, SECOND = "2024-25", "2025-26"


@pytest.fixture(scope="module")
def wh(small_warehouse: Path) -> Iterator[Warehouse]:
    with Warehouse(small_warehouse) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def person_year(small_warehouse: Path) -> pd.DataFrame:
    frame: pd.DataFrame = read_warehouse_table(small_warehouse, "person_year").to_pandas()
    return frame


@pytest.fixture(scope="module")
def raw(wh: Warehouse) -> pd.DataFrame:
    """Every indicator for the region and both boroughs, without disclosure control."""
    return indicator_table(wh, levels=["region", "lad"], rule=None)


def _row(frame: pd.DataFrame, indicator: str, place: str, period: str) -> pd.Series:
    rows = frame[
        (frame["indicator"] == indicator) & (frame["place"] == place) & (frame["period"] == period)
    ]
    assert len(rows) == 1, f"{indicator} {place} {period}: {len(rows)} rows"
    return rows.iloc[0]


def test_every_indicator_is_computed_for_every_place_and_period(raw: pd.DataFrame) -> None:
    assert list(raw.columns) == COLUMNS
    assert list(raw.columns[: len(CONTRACT)]) == CONTRACT
    for indicator in INDICATORS:
        rows = raw[raw["indicator"] == indicator.id]
        periods = [SECOND] if indicator.needs_previous_year else [FIRST, SECOND]
        assert sorted(set(rows["period"])) == periods, indicator.id
        assert set(rows["level"]) == {"region", "lad"}
        assert rows["place"].nunique() == 3
    assert not raw["suppressed"].any()


def test_a_proportion_is_covered_over_eligible_with_wilson_limits(
    raw: pd.DataFrame, person_year: pd.DataFrame
) -> None:
    rows = person_year[(person_year["year"] == FIRST) & (person_year["lad_code"] == MANCHESTER)]
    x = float(rows["breast_screening_covered"].sum())
    n = float(rows["breast_screening_eligible"].sum())
    expected = rates.proportion(np.array([x]), np.array([n]), multiplier=100)
    got = _row(raw, "breast_screening_coverage", MANCHESTER, FIRST)
    assert (got["numerator"], got["denominator"]) == (x, n)
    assert got["value"] == pytest.approx(float(expected["value"][0]))
    assert got["lower"] == pytest.approx(float(expected["lower95"][0]))
    assert got["upper_998"] == pytest.approx(float(expected["upper998"][0]))


def test_a_standardised_rate_uses_esp_bands_and_person_years(
    raw: pd.DataFrame, person_year: pd.DataFrame
) -> None:
    rows = person_year[
        (person_year["year"] == SECOND)
        & (person_year["lad_code"] == TRAFFORD)
        & (person_year["age"] < 75)
    ]
    band = np.minimum(rows["age"].to_numpy() // 5, 18)
    deaths = np.bincount(band, weights=rows["died"].to_numpy(float), minlength=15)[:15]
    years = np.bincount(band, weights=rows["days_alive"].to_numpy(float) / 365, minlength=15)
    expected = standardised.dsr(deaths, years[:15], standardised.ESP2013[:15])
    got = _row(raw, "u75_mortality_all_causes", TRAFFORD, SECOND)
    assert got["numerator"] == deaths.sum()
    assert got["value"] == pytest.approx(expected["value"])
    assert got["lower"] == pytest.approx(expected["lower95"])
    assert got["upper"] == pytest.approx(expected["upper95"])


def test_life_expectancy_uses_the_twenty_band_life_table(
    raw: pd.DataFrame, person_year: pd.DataFrame
) -> None:
    rows = person_year[(person_year["year"] == FIRST) & (person_year["sex"] == "female")]
    band = life_table.band_index(rows["age"].to_numpy())
    deaths = np.bincount(band, weights=rows["died"].to_numpy(float), minlength=20)
    years = np.bincount(band, weights=rows["days_alive"].to_numpy(float) / 365, minlength=20)
    expected = life_table.life_expectancy(deaths, years)
    region = raw[(raw["level"] == "region")]["place"].iloc[0]
    got = _row(raw, "life_expectancy_female", region, FIRST)
    assert got["value"] == pytest.approx(expected.at_birth)
    assert got["lower"] == pytest.approx(float(expected.limits[0.95][0][0]))


def test_care_home_admissions_are_new_council_supported_placements_of_people_65_plus(
    raw: pd.DataFrame, person_year: pd.DataFrame
) -> None:
    in_home = person_year["asc_setting"].isin(["residential", "nursing"])
    supported = in_home & (person_year["asc_funding"] == "council_funded")
    before = set(person_year.loc[supported & (person_year["year"] == FIRST), "person_id"])
    now = person_year[supported & (person_year["year"] == SECOND) & (person_year["age"] >= 65)]
    admitted = now[~now["person_id"].isin(before)]
    got = _row(raw, "care_home_admissions_65plus", MANCHESTER, SECOND)
    assert got["numerator"] == (admitted["lad_code"] == MANCHESTER).sum()
    # a self-funder whose capital ran down is admitted the year the council starts to pay
    paid_before = set(
        person_year.loc[
            in_home
            & (person_year["year"] == FIRST)
            & (person_year["asc_funding"] == "self_funder"),
            "person_id",
        ]
    )
    assert now["person_id"].isin(paid_before).any()
    assert not (
        (raw["indicator"] == "care_home_admissions_65plus") & (raw["period"] == FIRST)
    ).any()


def test_share_of_spend_counts_public_money_only(raw: pd.DataFrame, small_warehouse: Path) -> None:
    cost = read_warehouse_table(small_warehouse, "activity_cost").to_pandas()
    cost = cost[(cost["year"] == FIRST) & (cost["lad_code"] == TRAFFORD)]
    public = cost[cost["payer_kind"] != "self"]
    community = public["service"].isin(
        [
            "gp_appointments",
            "community_contacts",
            "mental_health_contacts",
            "talking_therapies_contacts",
            "asc_home_care_hours",
            "asc_reablement_episodes",
        ]
    )
    hospital = public["service"].isin(
        [
            "ae_attendances",
            "emergency_admissions",
            "elective_admissions",
            "outpatient_attendances",
            "ambulance_conveyances",
        ]
    )
    closer = public.loc[community, "cost_pence"].sum()
    total = closer + public.loc[hospital, "cost_pence"].sum()
    got = _row(raw, "care_closer_to_home", TRAFFORD, FIRST)
    assert got["value"] == pytest.approx(100 * closer / total)
    assert got["numerator"] == pytest.approx(closer / 100)
    assert np.isnan(got["lower"])


def test_places_at_a_level_add_up_to_the_region(wh: Warehouse) -> None:
    table = indicator_table(
        wh,
        indicators=["ae_attendances"],
        levels=["region", "lad", "msoa", "decile", "quintile", "ward", "lsoa11"],
        rule=None,
    )
    for period, rows in table.groupby("period"):
        region = rows.loc[rows["level"] == "region", "numerator"].iloc[0]
        for level, members in rows[rows["level"] != "region"].groupby("level"):
            assert members["numerator"].sum() == pytest.approx(region), (period, level)


def test_comparisons_follow_the_interval_and_the_polarity(raw: pd.DataFrame) -> None:
    for indicator in INDICATORS:
        rows = raw[(raw["indicator"] == indicator.id) & raw["england_value"].notna()]
        assert (rows.loc[rows["lower"].isna(), "comparison"] == "not compared").all()
        rows = rows[rows["lower"].notna()]
        if indicator.method is Method.SHARE_OF_SPEND:
            assert (rows["comparison"] == "not compared").all()
            continue
        above = rows["lower"] > rows["england_value"]
        below = rows["upper"] < rows["england_value"]
        if indicator.polarity is Polarity.HIGHER_IS_BETTER:
            assert (rows.loc[above, "comparison"] == "better").all()
            assert (rows.loc[below, "comparison"] == "worse").all()
        elif indicator.polarity is Polarity.LOWER_IS_BETTER:
            assert (rows.loc[above, "comparison"] == "worse").all()
            assert (rows.loc[below, "comparison"] == "better").all()
        else:
            assert (rows.loc[above, "comparison"] == "higher").all()
        assert (rows.loc[~above & ~below, "comparison"] == "similar").all()
    assert (raw.loc[raw["england_value"].isna(), "comparison"] == "not compared").all()
    region = raw[raw["level"] == "region"]
    assert (region["comparison_region"] == "not compared").all()


def test_trend_needs_an_earlier_period(raw: pd.DataFrame) -> None:
    first = raw[raw["period"] == FIRST]
    assert (first["trend"] == "cannot be calculated").all()
    later = raw[(raw["period"] == SECOND) & raw["lower"].notna()]
    assert set(later["trend"]) <= {
        "improving",
        "worsening",
        "increasing",
        "decreasing",
        "no significant change",
        "cannot be calculated",
    }


def test_published_tables_hide_small_counts_and_what_would_reveal_them(
    wh: Warehouse, small_warehouse: Path
) -> None:
    table = indicator_table(wh, levels=["lad", "msoa"])
    counted = table[table["indicator"] != "care_closer_to_home"]
    hidden = counted["suppressed"]
    assert hidden.any(), "a small model must have some small counts at MSOA level"
    shown = counted.loc[~hidden, "numerator"].astype(float)
    assert not shown.between(1, 7).any()
    assert (shown % 5 == 0).all()
    assert counted.loc[hidden, ["value", "lower", "upper", "numerator"]].isna().all(axis=None)
    assert (counted.loc[hidden, "comparison"] == "not compared").all()
    assert (counted.loc[hidden, "trend"] == "cannot be calculated").all()
    lsoas = pd.read_parquet(small_warehouse / "lsoa.parquet")
    lad_of = dict(zip(lsoas["msoa21_code"], lsoas["lad_code"], strict=False))
    msoas = counted[counted["level"] == "msoa"]
    # the MSOAs of a borough add up to the borough: never exactly one of them hidden
    per_group = msoas.groupby(["indicator", "period", msoas["place"].map(lad_of)])["suppressed"]
    assert (per_group.sum() != 1).all()


def test_a_cell_is_hidden_alike_whichever_levels_are_asked_for(wh: Warehouse) -> None:
    """Secondary suppression is decided over every publishable level, so a table of one level
    and a separately published table of another cannot be set against each other."""
    ids = ["delayed_discharge_days", "bowel_screening_coverage", "u75_mortality_cancer"]
    keys = ["indicator", "place", "period"]
    levels = ["lad", "msoa", "lsoa", "ward", "lsoa11", "decile"]
    together = indicator_table(wh, indicators=ids, levels=levels).set_index(keys)
    assert together["suppressed"].any()
    for level in ("msoa", "ward", "decile"):
        alone = indicator_table(wh, indicators=ids, levels=[level]).set_index(keys)
        same = together[together["level"] == level].loc[alone.index]
        pd.testing.assert_series_equal(alone["suppressed"], same["suppressed"])
        pd.testing.assert_series_equal(alone["numerator"], same["numerator"])


def test_counts_for_disclosure_control_are_the_computed_rows(wh: Warehouse) -> None:
    """The suppression pattern is decided on :func:`counts` for every level; they must be
    exactly the rows, numerators and denominators the statistics are computed for."""
    members = memberships(wh, ["region", "lad", "msoa", "lsoa11", "decile"])
    person = person_sums(wh, INDICATORS, members)
    spend = spend_sums(wh, INDICATORS, members)
    computed = compute(INDICATORS, person, spend)
    counted = counts(INDICATORS, person, spend)
    keys = ["indicator", "level", "place_code", "year"]
    computed, counted = computed.sort_values(keys), counted.sort_values(keys)
    pd.testing.assert_frame_equal(
        computed[keys].reset_index(drop=True), counted[keys].reset_index(drop=True)
    )
    for column in ("numerator", "denominator"):
        np.testing.assert_allclose(computed[column], counted[column], rtol=1e-9)


def test_the_engine_sums_come_in_a_fixed_order(wh: Warehouse) -> None:
    """The statistics sum the engine's rows in the order given: a fixed order gives the same
    figures to the last digit on every run, whatever order parallel threads finished in."""
    members = memberships(wh, ["region", "lad", "lsoa11"])
    person = person_sums(wh, INDICATORS, members)
    keys = ["level", "place_code", "year", "sex", "band"]
    pd.testing.assert_frame_equal(person, person.sort_values(keys, ignore_index=True))
    spend = spend_sums(wh, INDICATORS, members)
    keys = ["level", "place_code", "year"]
    pd.testing.assert_frame_equal(spend, spend.sort_values(keys, ignore_index=True))


def test_shown_rates_and_proportions_come_from_the_published_counts(wh: Warehouse) -> None:
    """A shown figure reveals no more than the rounded counts beside it (as NHS statistics
    compute percentages from rounded figures)."""
    table = indicator_table(wh, levels=["lad", "msoa"])
    shown = table[~table["suppressed"]]
    checked = 0
    for indicator in INDICATORS:
        if indicator.method not in (Method.PROPORTION, Method.CRUDE_RATE):
            continue
        rows = shown[shown["indicator"] == indicator.id]
        rows = rows[rows["denominator"].astype(float) > 0]
        if rows.empty:  # every denominator small enough to hide (care home residents)
            continue
        checked += 1
        x = rows["numerator"].to_numpy(dtype=float)
        n = rows["denominator"].to_numpy(dtype=float)
        assert (x % 5 == 0).all()
        assert (n % 5 == 0).all()
        np.testing.assert_allclose(rows["value"], x / n * indicator.multiplier, rtol=1e-12)
        if indicator.method is Method.PROPORTION:
            limits = rates.proportion(x, n, multiplier=indicator.multiplier)
            np.testing.assert_allclose(
                rows["lower"], np.asarray(limits["lower95"], float), rtol=1e-12
            )
            np.testing.assert_allclose(
                rows["upper_998"], np.asarray(limits["upper998"], float), rtol=1e-12
            )
        # the limits sit around the published value, never around a hidden exact one
        assert (rows["lower"] <= rows["value"] + 1e-9).all()
        assert (rows["upper"] >= rows["value"] - 1e-9).all()
    assert checked >= 8


def test_published_limits_do_not_give_an_exact_count_away(wh: Warehouse) -> None:
    """A Poisson interval's sides stand in a ratio that depends on the count alone: published
    limits of standardised rates stand about the published (rounded) count, and a crude
    rate's widening for repeat events is published to one decimal place."""
    table = indicator_table(wh, levels=["lad", "msoa", "lsoa"])
    shown = table[~table["suppressed"] & table["value"].notna() & table["lower"].notna()]
    checked = {Method.DSR: 0, Method.CRUDE_RATE: 0}
    for indicator in INDICATORS:
        rows = shown[shown["indicator"] == indicator.id]
        observed = rows["numerator"].to_numpy(dtype=float)
        if indicator.method is Method.DSR:
            checked[Method.DSR] += len(rows)
            lower, upper = intervals.byars_limits(observed)
            sides = (rows["upper"] - rows["value"]) / (rows["value"] - rows["lower"])
            np.testing.assert_allclose(sides, (upper - observed) / (observed - lower), rtol=1e-9)
        elif indicator.method is Method.CRUDE_RATE and indicator.repeat_events:
            checked[Method.CRUDE_RATE] += len(rows)
            scale = indicator.multiplier / rows["denominator"].to_numpy(dtype=float)
            _, upper, _ = intervals.poisson_limits(observed)
            widening = (rows["upper"].to_numpy() / scale - observed) / (upper - observed)
            np.testing.assert_allclose(widening, np.round(widening, 1), atol=1e-9)
            assert (widening >= 1.0 - 1e-9).all()
    assert checked[Method.DSR] > 10
    assert checked[Method.CRUDE_RATE] > 10


def test_unknown_indicator_level_place_or_period_is_a_clear_error(wh: Warehouse) -> None:
    with pytest.raises(IndicatorError, match=r"unknown indicator 'nope'; available: .*life_exp"):
        indicator_table(wh, indicators=["nope"])
    with pytest.raises(IndicatorError, match=r"unknown geography level 'county'; available: "):
        indicator_table(wh, levels=["county"])
    with pytest.raises(IndicatorError, match=r"unknown place 'E08999999'.*lad: E08000003"):
        indicator_table(wh, places=["E08999999"])
    with pytest.raises(
        IndicatorError, match=r"E08000001 \(Bolton\) is not in this model, which holds Manchester"
    ):
        indicator_table(wh, places=["e08000001"])
    with pytest.raises(IndicatorError, match=r"no data for period '2031'; periods available"):
        indicator_table(wh, years=["2031"])
    with pytest.raises(
        IndicatorError, match=r"care_home_admissions_65plus has no data for 2024-25"
    ):
        indicator_table(wh, indicators=["care_home_admissions_65plus"], years=["2024"])


def test_a_place_code_finds_its_level(wh: Warehouse) -> None:
    table = indicator_table(wh, places=[MANCHESTER, "IMD-Q1"], indicators=["ld_health_checks"])
    assert set(zip(table["place"], table["level"], strict=True)) == {
        (MANCHESTER, "lad"),
        ("IMD-Q1", "quintile"),
    }


def test_a_standardised_rate_needs_age_bands(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    spend_dsr = Indicator(
        id="spend_dsr",
        name="a DSR of money",
        method=Method.DSR,
        polarity=Polarity.LOWER_IS_BETTER,
        numerator="spend_primary_community",
        denominator="spend_primary_community_hospital",
        unit="per 100,000",
        source="test",
        table=Table.ACTIVITY_COST,
    )
    monkeypatch.setitem(definitions.BY_ID, "spend_dsr", spend_dsr)
    with pytest.raises(IndicatorError, match="needs a population by age band"):
        indicator_table(wh, indicators=["spend_dsr"])


def test_no_hidden_cell_is_the_only_one_hidden_in_any_total_and_its_parts(
    wh: Warehouse, small_warehouse: Path
) -> None:
    """Wards hold whole LSOAs, boroughs whole wards, and 2011 LSOAs are often 2021 LSOAs:
    for each total and the parts that make it up, never exactly one cell hidden."""
    table = indicator_table(
        wh,
        indicators=["ae_attendances", "bowel_screening_coverage", "ld_health_checks"],
        levels=["lad", "ward", "lsoa", "lsoa11"],
    )
    hidden = table.set_index(["indicator", "period", "level", "place"])["suppressed"]
    members = pd.read_parquet(small_warehouse / "footprint_membership.parquet")
    ward_of = members[members["footprint_kind"] == "ward"].set_index("lsoa21_code")[
        "footprint_code"
    ]
    lad_of_ward = (
        pd.read_parquet(small_warehouse / "lsoa.parquet")
        .assign(ward=lambda d: d["lsoa21_code"].map(ward_of))
        .groupby("ward")["lad_code"]
        .first()
    )
    relations = [("ward", ward_of, "lsoa"), ("lad", lad_of_ward, "ward")]
    lsoa11 = members[members["footprint_kind"] == "lsoa11"]
    same = lsoa11.groupby("footprint_code").filter(
        lambda g: len(g) == 1 and g["weight"].iloc[0] == 1.0
    )
    same = same[same["lsoa21_code"].map(same["lsoa21_code"].value_counts()) == 1]
    relations.append(("lsoa", same.set_index("footprint_code")["lsoa21_code"], "lsoa11"))
    checked = 0
    for (indicator, period), _ in table.groupby(["indicator", "period"]):
        for total_level, parent_of, part_level in relations:
            for total, parts in parent_of.groupby(parent_of):
                # a place with no denominator has no row: nothing to hide there
                keys = [(indicator, period, total_level, total)]
                keys += [(indicator, period, part_level, p) for p in parts.index]
                cells = [bool(hidden.get(key, False)) for key in keys]
                assert sum(cells) != 1, (indicator, period, total_level, total, keys, cells)
                checked += 1
    assert checked > 500
    shown = table.loc[~table["suppressed"], "numerator"].astype(float)
    assert not ((shown > 0) & (shown < 8)).any()
    assert table.loc[table["suppressed"], "denominator"].isna().all()


def test_repeat_admissions_widen_the_standardised_rate_interval(
    raw: pd.DataFrame, person_year: pd.DataFrame
) -> None:
    """Emergency admissions: one person may be admitted many times, so the interval is
    OHID's non-independent DSR, from people counted by how many admissions they had."""
    rows = person_year[(person_year["year"] == FIRST) & (person_year["lad_code"] == MANCHESTER)]
    band = np.minimum(rows["age"].to_numpy() // 5, 18)
    years = np.bincount(band, weights=rows["days_alive"].to_numpy(float) / 365, minlength=19)
    people = (
        pd.DataFrame({"band": band, "f": rows["emergency_admissions"].to_numpy()})
        .groupby(["band", "f"])
        .size()
        .reset_index(name="n")
    )
    expected = standardised.dsr_nonindependent(
        people["f"], people["n"], people["band"], years, standardised.ESP2013
    )
    got = _row(raw, "emergency_admissions", MANCHESTER, FIRST)
    assert got["value"] == pytest.approx(expected["value"])
    assert got["lower"] == pytest.approx(expected["lower95"])
    assert got["upper_998"] == pytest.approx(expected["upper998"])
    independent = standardised.dsr(
        np.bincount(band, weights=rows["emergency_admissions"].to_numpy(float), minlength=19),
        years,
    )
    assert got["upper"] - got["lower"] > independent["upper95"] - independent["lower95"]


def test_a_partial_model_is_not_named_for_the_whole_region(wh: Warehouse) -> None:
    """The small model holds two of Greater Manchester's ten boroughs: its region row says so."""
    table = indicator_table(wh, indicators=["u75_mortality_all_causes"], levels=["region"])
    assert set(table["place_name"]) == {"Manchester and Trafford (part of Greater Manchester)"}
