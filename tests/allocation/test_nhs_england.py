"""The model's need index by ICB beside NHS England's: on one footing, for whole ICBs only."""

from __future__ import annotations

import pandas as pd
import pytest

from carepool.allocation.nhs_england import (
    compare_with_nhs_england,
    published_icb_index,
    whole_icbs,
)
from carepool.geography import lsoa_lookup

GM, CHESHIRE_AND_MERSEYSIDE = "E54000057", "E54000008"


def _councils(*icbs: str) -> list[str]:
    lookup = lsoa_lookup()
    return sorted(set(lookup.loc[lookup["icb24_code"].isin(icbs), "lad24_code"]))


def test_an_icb_is_whole_only_when_every_one_of_its_councils_is_modelled() -> None:
    councils = _councils(GM, CHESHIRE_AND_MERSEYSIDE)
    assert whole_icbs(councils) == {GM, CHESHIRE_AND_MERSEYSIDE}
    assert whole_icbs(councils[1:]) == {GM, CHESHIRE_AND_MERSEYSIDE} - {
        GM if councils[0] in _councils(GM) else CHESHIRE_AND_MERSEYSIDE
    }


def test_both_indices_are_put_over_the_compared_icbs_average() -> None:
    published = published_icb_index([GM, CHESHIRE_AND_MERSEYSIDE])
    places = pd.DataFrame(
        {
            "place": [GM, CHESHIRE_AND_MERSEYSIDE, "E54000050"],
            "name": ["Greater Manchester", "Cheshire and Merseyside", "part of another"],
            "population": [3_000_000, 2_000_000, 100_000],
            "need_index": [1.10, 0.90, 0.50],
        }
    )
    comparison = compare_with_nhs_england(places, _councils(GM, CHESHIRE_AND_MERSEYSIDE))
    assert comparison is not None
    table = comparison.places.set_index("place")
    assert set(table.index) == {GM, CHESHIRE_AND_MERSEYSIDE}  # the partial ICB is left out
    average = (1.10 * 3 + 0.90 * 2) / 5
    assert table.loc[GM, "need_index"] == pytest.approx(1.10 / average)
    assert table.loc[GM, "nhse_need_index"] == pytest.approx(published[GM], abs=1e-4)
    row = comparison.places[comparison.places["place"] == GM].iloc[0]
    assert row["difference"] == pytest.approx(row["need_index"] - row["nhse_need_index"])
    assert comparison.correlation is None  # two ICBs: no correlation to speak of
    assert comparison.mean_absolute_difference == pytest.approx(table["difference"].abs().mean())


def test_one_whole_icb_has_nothing_to_compare() -> None:
    places = pd.DataFrame(
        {"place": [GM], "name": ["Greater Manchester"], "population": [1], "need_index": [1.0]}
    )
    assert compare_with_nhs_england(places, _councils(GM)) is None
