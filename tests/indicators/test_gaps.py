"""Gaps and inequalities, from the published indicator table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from carepool.allocation import from_warehouse
from carepool.errors import IndicatorError
from carepool.indicators import gap_table, indicator_table
from carepool.indicators.gaps import GAP_LEVELS, gaps_from_table, place_gaps
from carepool.indicators.levels import available_levels, memberships
from carepool.stats.inequality import Inequality, sii
from carepool.warehouse.connection import Warehouse


@pytest.fixture(scope="module")
def wh(small_warehouse: Path) -> Iterator[Warehouse]:
    with Warehouse(small_warehouse) as warehouse:
        yield warehouse


@pytest.fixture(scope="module")
def table(wh: Warehouse) -> pd.DataFrame:
    return indicator_table(wh, levels=list(GAP_LEVELS), rule=None)


def _gap(gaps: pd.DataFrame, indicator: str, measure: str, period: str) -> pd.Series:
    rows = gaps[
        (gaps["indicator"] == indicator) & (gaps["measure"] == measure) & (gaps["period"] == period)
    ]
    assert len(rows) == 1
    return rows.iloc[0]


def test_gaps_are_differences_of_the_published_values(table: pd.DataFrame) -> None:
    gaps = gaps_from_table(table)
    rows = table[(table["indicator"] == "ae_attendances") & (table["period"] == "2025-26")]
    region = rows[rows["level"] == "region"].iloc[0]
    q = rows[rows["level"] == "quintile"].set_index("place")["value"]
    assert _gap(gaps, "ae_attendances", "region_minus_england", "2025-26")["value"] == (
        pytest.approx(region["value"] - region["england_value"])
    )
    assert _gap(gaps, "ae_attendances", "q1_minus_q5", "2025-26")["value"] == pytest.approx(
        q["IMD-Q1"] - q["IMD-Q5"]
    )


def _sii_of(deciles: pd.DataFrame) -> Inequality:
    """The SII and RII of indicator rows ordered from most to least deprived."""
    return sii(
        deciles["denominator"],
        deciles["value"],
        lower=deciles["lower"],
        upper=deciles["upper"],
        repetitions=10_000,
    )


def test_sii_runs_over_deciles_from_most_to_least_deprived(table: pd.DataFrame) -> None:
    gaps = gaps_from_table(table)
    deciles = table[
        (table["indicator"] == "bowel_screening_coverage")
        & (table["period"] == "2024-25")
        & (table["level"] == "decile")
    ]
    deciles = deciles.assign(d=deciles["place"].str[5:].astype(int)).sort_values("d")
    expected = _sii_of(deciles)
    got = _gap(gaps, "bowel_screening_coverage", "sii", "2024-25")
    assert got["value"] == pytest.approx(expected.sii)
    assert got["detail"] == f"{len(deciles)} deciles"
    rii = _gap(gaps, "bowel_screening_coverage", "rii", "2024-25")
    assert rii["value"] == pytest.approx(expected.rii)


def test_movement_compares_each_gap_with_its_previous_period(table: pd.DataFrame) -> None:
    gaps = gaps_from_table(table)
    first = gaps[gaps["period"] == "2024-25"]
    assert (first["movement"] == "cannot be calculated").all()
    second = gaps[(gaps["period"] == "2025-26") & gaps["change"].notna()]
    assert set(second["movement"]) <= {"widened", "narrowed", "no significant change"}
    row = second[second["measure"] == "q1_minus_q5"].iloc[0]
    before = _gap(gaps, row["indicator"], "q1_minus_q5", "2024-25")
    assert row["change"] == pytest.approx(row["value"] - before["value"])


def test_one_year_asked_for_has_the_same_change_and_movement_as_every_year(
    wh: Warehouse,
) -> None:
    """`carepool indicators gaps --year 2025` once left change and movement blank where the
    table of every year (as the demo prints it) showed them."""
    every = gap_table(wh, indicators=["u75_mortality_all_causes", "emergency_admissions"])
    one = gap_table(
        wh, indicators=["u75_mortality_all_causes", "emergency_admissions"], years=["2025"]
    )
    assert set(one["period"]) == {"2025-26"}
    assert one["change"].notna().any()
    expected = every[every["period"] == "2025-26"].reset_index(drop=True)
    pd.testing.assert_frame_equal(one, expected)


def test_gaps_over_suppressed_cells_are_suppressed(wh: Warehouse) -> None:
    gaps = gap_table(wh)
    hidden = gaps[gaps["suppressed"]]
    assert hidden[["value", "lower", "upper"]].isna().all(axis=None)
    shown = gaps[~gaps["suppressed"]]
    # a shown gap has a value, or says why it has none
    explained = shown["detail"].str.startswith("not calculated: no value for ")
    assert (shown["value"].notna() | explained).all()
    assert shown.loc[explained, "value"].isna().all()
    assert not np.isinf(shown["value"]).any()


def test_an_index_over_a_hidden_decile_is_suppressed(wh: Warehouse) -> None:
    from carepool.indicators import DisclosureRule

    table = indicator_table(
        wh, indicators=["ae_attendances"], levels=list(GAP_LEVELS), rule=DisclosureRule()
    )
    # hide one decile by hand, as a rule with a higher threshold would
    first = table.index[(table["level"] == "decile") & (table["period"] == "2024-25")][0]
    table.loc[first, ["suppressed", "value", "lower", "upper"]] = [True, np.nan, np.nan, np.nan]
    gaps = gaps_from_table(table)
    hidden = gaps[(gaps["period"] == "2024-25") & gaps["measure"].isin(["sii", "rii"])]
    assert len(hidden) == 2
    assert hidden["suppressed"].all()
    assert hidden["value"].isna().all()
    later = gaps[(gaps["period"] == "2025-26") & (gaps["measure"] == "sii")].iloc[0]
    assert later["movement"] == "cannot be calculated"


def test_a_borough_has_its_own_gaps_against_england_the_region_and_its_deprived_areas(
    wh: Warehouse,
) -> None:
    table = indicator_table(
        wh, levels=["lad", "lad_quintile", "lad_decile"], indicators=["ae_attendances"], rule=None
    )
    gaps = gap_table(wh, indicators=["ae_attendances"], place="e08000003", rule=None)
    assert set(gaps["measure"]) == {
        "place_minus_england",
        "place_minus_region",
        "q1_minus_q5",
        "sii",
        "rii",
    }
    rows = table[table["period"] == "2025-26"].set_index("place")
    borough = rows.loc["E08000003"]
    against_region = _gap(gaps, "ae_attendances", "place_minus_region", "2025-26")
    assert against_region["value"] == pytest.approx(borough["value"] - borough["region_value"])
    q1_q5 = _gap(gaps, "ae_attendances", "q1_minus_q5", "2025-26")
    most, least = rows.loc["E08000003:IMD-Q1"], rows.loc["E08000003:IMD-Q5"]
    assert q1_q5["value"] == pytest.approx(most["value"] - least["value"])
    # the borough's own deciles, not the region's
    deciles = rows[rows["level"] == "lad_decile"].sort_values("place")
    assert deciles.index.str.startswith("E08000003:IMD-D").sum() >= 5


def test_gaps_of_a_place_that_is_not_a_borough_are_refused(wh: Warehouse) -> None:
    with pytest.raises(IndicatorError, match=r"'IMD-Q1' is not a local authority code"):
        gap_table(wh, indicators=["ae_attendances"], place="IMD-Q1")


def test_deciles_local_to_a_borough_split_its_residents_into_tenths(wh: Warehouse) -> None:
    lsoas = wh.to_pandas(wh.table("lsoa"))
    members = memberships(wh, ["lad_local_decile"], analysis=True)
    decile = members.set_index("lsoa21_code")["place_code"].str.split(":IMD-L").str[1].astype(int)
    lsoas = lsoas.assign(decile=lsoas["lsoa21_code"].map(decile))
    for code, borough in lsoas.groupby("lad_code"):
        assert sorted(borough["decile"].unique()) == list(range(1, 11)), code
        # the most deprived LSOAs are in decile 1, the least in decile 10
        by_score = borough.sort_values("imd_score", ascending=False)["decile"].to_numpy()
        assert np.all(np.diff(by_score) >= 0), code
        # each decile holds about a tenth of the borough's residents
        shares = borough.groupby("decile")["residents"].sum() / borough["residents"].sum()
        assert shares.between(0.05, 0.15).all(), (code, shares.to_dict())
    assert "lad_local_decile" not in available_levels(
        wh.to_pandas(wh.table("footprint_membership"))
    )


def test_local_deciles_are_for_analysis_and_never_published(wh: Warehouse) -> None:
    indicator = "bowel_screening_coverage"
    with pytest.raises(IndicatorError, match="analysis only and never published"):
        indicator_table(wh, indicators=[indicator], levels=["lad_local_decile"])
    # nor can anything else built on places reach them: an allocation's place table, or a
    # published lookup by a local decile's code
    with pytest.raises(IndicatorError, match="analysis only and never published"):
        from_warehouse(wh, "2026-27", [], ["lad_local_decile"])
    with pytest.raises(IndicatorError, match="unknown place"):
        indicator_table(wh, indicators=[indicator], places=["E08000003:IMD-L1"])
    table = indicator_table(
        wh, indicators=[indicator], levels=["lad", "lad_quintile", "lad_local_decile"], rule=None
    )
    gaps = place_gaps(table, "E08000003", local=True)
    deciles = table[
        (table["level"] == "lad_local_decile")
        & table["place"].str.startswith("E08000003:")
        & (table["period"] == "2024-25")
    ]
    deciles = deciles.assign(d=deciles["place"].str.split("IMD-L").str[1].astype(int))
    deciles = deciles.sort_values("d")
    assert deciles["d"].tolist() == list(range(1, 11))
    expected = _sii_of(deciles)
    assert _gap(gaps, indicator, "sii", "2024-25")["value"] == pytest.approx(expected.sii)
