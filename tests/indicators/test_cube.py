"""The sums by LSOA rolled up to places: the sparse product against a plain join and sum."""

from __future__ import annotations

from random import Random

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.errors import IndicatorError
from carepool.indicators import cube
from carepool.indicators.cube import LsoaSums, place_parts

LSOAS = ["E01000001", "E01000002", "E01000003", "E01000004"]
YEARS = ["2024-25", "2025-26"]
SEXES = ["female", "male"]
KEYS = ["year", "sex", "band"]
MEASURES = ["deaths", "population"]


@st.composite
def lsoa_sums(draw: st.DrawFn) -> pa.Table:
    """Rows of sums by LSOA and cell as the engine's ``group_by`` gives them: each cell at
    most once, any cell missing, in any order; a measure may be null."""
    grid = [(a, y, s, b) for a in LSOAS for y in YEARS for s in SEXES for b in (0, 5, 90)]
    cells = draw(st.lists(st.sampled_from(grid), min_size=1, unique=True))
    counts = st.integers(0, 1_000).map(float)
    deaths = draw(st.lists(st.none() | counts, min_size=len(cells), max_size=len(cells)))
    people = draw(st.lists(counts, min_size=len(cells), max_size=len(cells)))
    return pa.table(
        {
            "year": [c[1] for c in cells],
            "lsoa21_code": [c[0] for c in cells],
            "sex": [c[2] for c in cells],
            "band": pa.array([c[3] for c in cells], pa.int16()),
            "deaths": pa.array(deaths, pa.float64()),
            "population": pa.array(people, pa.float64()),
        }
    )


@st.composite
def memberships(draw: st.DrawFn) -> pd.DataFrame:
    """Places of two levels, overlapping, with fractional weights, an LSOA that has no sums
    (outside the model's rows), and an LSOA listed twice for one place (whose weights add)."""
    rows = []
    for level in ("lad", "ward"):
        for place in draw(st.lists(st.sampled_from("PQR"), min_size=1, unique=True)):
            for lsoa in draw(st.lists(st.sampled_from([*LSOAS, "E01999999"]))):
                weight = draw(st.sampled_from([1.0, 0.5, 0.25, 1 / 3]))
                rows.append((level, f"{level}-{place}", lsoa, weight))
    frame = pd.DataFrame(rows, columns=["level", "place_code", "lsoa21_code", "weight"])
    return frame.sort_values(["level", "place_code"], kind="stable", ignore_index=True)


def joined_and_summed(table: pa.Table, members: pd.DataFrame) -> pd.DataFrame:
    """What the engine's join and ``SUM`` give: a row for each place's cell that one of its
    LSOAs has, nulls ignored, null only where every term is."""
    joined = table.to_pandas().merge(members, on="lsoa21_code")
    for measure in MEASURES:
        joined[measure] = joined[measure] * joined["weight"]
    groups = ["level", "place_code", *KEYS]
    summed = joined.groupby(groups, sort=True)[MEASURES].sum(min_count=1).reset_index()
    typed: pd.DataFrame = summed.astype({"band": "int16", **dict.fromkeys(MEASURES, "float64")})
    return typed


@settings(max_examples=200, deadline=None)
@given(lsoa_sums(), memberships(), st.randoms())
def test_the_product_gives_what_a_join_and_sum_give(
    table: pa.Table, members: pd.DataFrame, random: Random
) -> None:
    """As the indicators fill it: made empty for every year, sex and band, then given the
    engine's rows a year at a time, in any order (a year may have none)."""
    axes = {
        "year": pd.Index(YEARS, dtype="str"),
        "sex": pd.Index(SEXES, dtype="str"),
        "band": pd.Index([0, 5, 90], dtype="int16"),
    }
    sums = LsoaSums.empty(members["lsoa21_code"], axes, MEASURES)
    for year in random.sample(YEARS, len(YEARS)):
        sums.add(table.filter(pc.equal(table.column("year"), year)))
    expected = joined_and_summed(table, members)
    pd.testing.assert_frame_equal(sums.rolled_up(members), expected, check_exact=False, rtol=1e-12)
    whole = LsoaSums.of(table, KEYS, MEASURES).rolled_up(members)
    pd.testing.assert_frame_equal(whole, expected, check_exact=False, rtol=1e-12)


def test_counts_are_exact_and_places_keep_their_order() -> None:
    table = pa.table(
        {
            "year": ["2024-25", "2024-25", "2024-25"],
            "lsoa21_code": ["E01000002", "E01000001", "E01000002"],
            "sex": ["male", "female", "female"],
            "band": pa.array([0, 0, 0], pa.int16()),
            "deaths": [2.0**52, 1.0, 3.0],
            "population": [7.0, 11.0, 13.0],
        }
    )
    members = pd.DataFrame(
        {
            "level": ["region", "region", "lsoa", "lsoa"],
            "place_code": ["R", "R", "E01000002", "E01000001"],
            "lsoa21_code": ["E01000001", "E01000002", "E01000002", "E01000001"],
            "weight": 1.0,
        }
    )
    rolled = LsoaSums.of(table, KEYS, MEASURES).rolled_up(members)
    assert rolled[["level", "place_code", "sex"]].values.tolist() == [
        ["region", "R", "female"],
        ["region", "R", "male"],
        ["lsoa", "E01000002", "female"],
        ["lsoa", "E01000002", "male"],
        ["lsoa", "E01000001", "female"],
    ]
    assert rolled["deaths"].tolist() == [4.0, 2.0**52, 3.0, 2.0**52, 1.0]
    assert rolled["population"].tolist() == [24.0, 7.0, 13.0, 7.0, 11.0]


def test_parts_one_after_another_are_the_whole() -> None:
    members = pd.DataFrame(
        {
            "level": ["lad", "lad", "lad", "lsoa", "lsoa"],
            "place_code": ["B", "A", "A", "E01000002", "E01000001"],
            "lsoa21_code": ["E01000002", "E01000001", "E01000003", "E01000002", "E01000001"],
            "weight": [1.0, 0.5, 1.0, 1.0, 1.0],
        }
    )
    table = pa.table(
        {
            "year": YEARS[:1] * 3,
            "lsoa21_code": LSOAS[:3],
            "deaths": [1.0, 2.0, 4.0],
            "population": [10.0, 20.0, 40.0],
        }
    )
    sums = LsoaSums.of(table, ["year"], MEASURES)
    parts = place_parts(members, 1)
    assert len(parts) == 4
    by_part = pd.concat([sums.rolled_up(part) for part in parts], ignore_index=True)
    whole = sums.rolled_up(members.sort_values(["level", "place_code"], kind="stable"))
    pd.testing.assert_frame_equal(by_part, whole)
    assert by_part["place_code"].tolist() == ["A", "B", "E01000001", "E01000002"]
    np.testing.assert_array_equal(by_part["deaths"], [4.5, 2.0, 1.0, 2.0])


def test_no_places_give_no_rows_with_every_column() -> None:
    table = pa.table({"year": YEARS[:1], "lsoa21_code": LSOAS[:1], "deaths": [1.0]})
    none = pd.DataFrame(columns=["level", "place_code", "lsoa21_code", "weight"])
    rolled = LsoaSums.of(table, ["year"], ["deaths"]).rolled_up(none)
    assert rolled.empty
    assert list(rolled.columns) == ["level", "place_code", "year", "deaths"]


def test_a_value_outside_the_cells_is_an_error_not_a_dropped_row() -> None:
    sums = LsoaSums.empty(LSOAS, {"year": pd.Index(YEARS[:1], dtype="str")}, ["deaths"])
    stray = pa.table({"year": ["2031-32"], "lsoa21_code": LSOAS[:1], "deaths": [1.0]})
    with pytest.raises(ValueError, match="year '2031-32' is none of the sums' cells"):
        sums.add(stray)


def test_sums_that_cannot_fit_are_refused_before_any_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """England's LSOAs over ten years: 33,755 by 400 cells by 35 measures, 3.6 GiB, and as
    much again while a year arrives, against 1 GiB free."""
    monkeypatch.setattr(cube, "available_memory", lambda: 2**30)
    england = [f"E01{n:06d}" for n in range(33_755)]
    axes = {"year": [f"{2020 + y}-{21 + y}" for y in range(10)], "cell": range(40)}
    measures = [f"m{n}" for n in range(35)]
    with pytest.raises(IndicatorError, match=r"need about 7\.2 GiB of memory and 1\.0 GiB"):
        LsoaSums.empty(england, axes, measures)
    monkeypatch.setattr(cube, "available_memory", lambda: None)  # the system does not say
    assert LsoaSums.empty(england[:10], axes, measures).values.shape == (10, 400, 35)
