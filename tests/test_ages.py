"""Age bands: the same band for an age in numpy and on the engine, for both band sets."""

from __future__ import annotations

import ibis
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.ages import FIVE_YEAR, STANDARD, AgeBands
from carepool.stats import BAND_STARTS, band_index


def test_the_two_band_sets_and_their_labels() -> None:
    assert STANDARD.starts == tuple(BAND_STARTS)
    assert STANDARD.labels[:3] == ("0", "1-4", "5-9")
    assert STANDARD.labels[-1] == "90+"
    assert FIVE_YEAR.labels[0] == "0-4"
    assert FIVE_YEAR.labels[-1] == "85+"
    assert len(FIVE_YEAR) == 18


def test_numpy_banding_agrees_with_the_life_table() -> None:
    ages = np.arange(0, 120)
    assert np.array_equal(STANDARD.index(ages), band_index(ages))
    assert FIVE_YEAR.index([0, 4, 5, 84, 85, 110]).tolist() == [0, 0, 1, 16, 17, 17]


@pytest.mark.parametrize("bands", [STANDARD, FIVE_YEAR, AgeBands((0, 16, 65, 75))])
def test_engine_banding_agrees_with_numpy(bands: AgeBands) -> None:
    ages = np.arange(0, 120)
    table = ibis.memtable({"age": ages.tolist()})
    expr = table.select(
        index=bands.index_expr(table.age), start=bands.start_expr(table.age)
    ).order_by("index", "start")
    frame = ibis.duckdb.connect().to_pandas(expr)
    expected = np.sort(bands.index(ages))
    assert frame["index"].tolist() == expected.tolist()
    assert frame["start"].tolist() == np.asarray(bands.starts)[expected].tolist()


def test_a_band_boundary_names_its_band_and_anything_else_is_refused() -> None:
    assert FIVE_YEAR.boundary_index(85) == 17
    with pytest.raises(ValueError, match="66 is not a band boundary"):
        FIVE_YEAR.boundary_index(66)
    with pytest.raises(ValueError, match="ascend from 0"):
        AgeBands((5, 10))


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(min_value=1, max_value=100), max_size=12))
def test_any_band_set_bands_alike_on_the_engine(inner: set[int]) -> None:
    bands = AgeBands((0, *sorted(inner)))
    ages = np.arange(0, 120)
    table = ibis.memtable({"age": ages.tolist()})
    frame = ibis.duckdb.connect().to_pandas(
        table.select(table.age, index=bands.index_expr(table.age)).order_by("age")
    )
    assert frame["index"].tolist() == bands.index(ages).tolist()
