"""Disclosure control: the HES rule, and no suppressed cell recoverable by subtraction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.indicators import HES_RULE, DisclosureRule, protect


def _table(counts: list[list[int]]) -> pd.DataFrame:
    rows = [
        {"place": f"P{i}", "period": f"Y{j}", "n": c, "rate": c * 10.0}
        for i, row in enumerate(counts)
        for j, c in enumerate(row)
    ]
    return pd.DataFrame(rows)


tables = st.integers(min_value=2, max_value=6).flatmap(
    lambda places: st.integers(min_value=2, max_value=5).flatmap(
        lambda periods: st.lists(
            st.lists(st.integers(min_value=0, max_value=60), min_size=periods, max_size=periods),
            min_size=places,
            max_size=places,
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_suppressed_count_can_be_recovered_by_subtraction(counts: list[list[int]]) -> None:
    frame = _table(counts)
    published = protect(frame, count="n", derived=["rate"], groupings=[["period"], ["place"]])
    hidden = published["suppressed"]
    # every count of 1-7 is hidden
    assert hidden[frame["n"].between(1, 7)].all()
    # in every row and every column adding to a published total, 0 or at least 2 are hidden:
    # subtracting the shown cells from the total then yields a sum of several unknowns at best
    for key in ("period", "place"):
        per_group = hidden.groupby(published[key]).sum()
        assert not (per_group == 1).any(), key
    # what is hidden is hidden everywhere it is derived
    assert published.loc[hidden, "n"].isna().all()
    assert published.loc[hidden, "rate"].isna().all()
    # what is shown is rounded to the nearest 5 and stays close to the truth
    shown = published.loc[~hidden, "n"].astype(int)
    assert (shown % 5 == 0).all()
    assert (np.abs(shown - frame.loc[~hidden, "n"]) <= 2).all()


def test_the_hes_rule_by_example() -> None:
    frame = pd.DataFrame({"place": ["A", "B", "C", "D"], "n": [0, 3, 8, 1234], "rate": 1.0})
    published = protect(frame, count="n", derived=["rate"])
    assert published["suppressed"].tolist() == [False, True, True, False]  # 8: secondary
    assert published["n"].tolist()[0] == 0
    assert published["n"].tolist()[3] == 1235
    assert HES_RULE.name.startswith("NHS hospital statistics")


def test_national_figures_are_not_rounded() -> None:
    frame = pd.DataFrame({"place": ["E92000001", "E08000003"], "n": [123456, 1234]})
    published = protect(frame, count="n", national=frame["place"] == "E92000001", groupings=[])
    assert published["n"].tolist() == [123456, 1235]


def test_the_rule_is_configurable() -> None:
    frame = pd.DataFrame({"n": [4, 9, 12, 30]})
    strict = DisclosureRule(name="counts under 10", smallest=1, largest_suppressed=9, round_to=1)
    published = protect(frame, count="n", rule=strict)
    assert published["suppressed"].tolist() == [True, True, False, False]
    assert published["n"].tolist()[2:] == [12, 30]
    with pytest.raises(ValueError, match="round_to"):
        DisclosureRule(round_to=0)


def test_unknown_columns_are_refused() -> None:
    with pytest.raises(KeyError, match="count"):
        protect(pd.DataFrame({"n": [1]}), count="count")
    with pytest.raises(KeyError, match="rate"):
        protect(pd.DataFrame({"n": [1]}), count="n", derived=["rate"])


def test_weighted_counts_under_eight_are_hidden_however_small() -> None:
    frame = pd.DataFrame({"n": [0.0, 0.4, 7.6, 8.0, 12.0], "g": ["a"] * 5})
    published = protect(frame, count="n", groupings=[])
    assert list(published["suppressed"]) == [False, True, True, False, False]
