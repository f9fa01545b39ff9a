from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from carepool.errors import RegionError
from carepool.geography import Geography, resolve_region
from carepool.population.build import council_parts
from carepool.population.census import census_by_lad
from carepool.population.council import fit_council
from carepool.population.fit import controlled_round, ipf_2d
from carepool.population.lsoa_change import change_shares, mid2020_on_lsoa21


def test_ipf_matches_both_margins_and_keeps_zero_cells() -> None:
    seed = np.array([[1.0, 2.0, 0.0], [3.0, 1.0, 2.0]])
    rows = np.array([10.0, 20.0])
    cols = np.array([12.0, 8.0, 10.0])
    fitted = ipf_2d(seed, rows, cols)
    np.testing.assert_allclose(fitted.sum(axis=1), rows, rtol=1e-8)
    np.testing.assert_allclose(fitted.sum(axis=0), cols, rtol=1e-8)
    assert fitted[0, 2] == 0.0


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int64, (6, 5), elements=st.integers(min_value=0, max_value=40)),
    arrays(np.float64, (6, 5), elements=st.floats(min_value=0.3, max_value=3.0)),
)
def test_controlled_rounding_keeps_both_integer_margins(
    truth: np.ndarray,
    distortion: np.ndarray,
) -> None:
    # margins from a real whole-number table, seed = that table distorted: always feasible
    rows, cols = truth.sum(axis=1), truth.sum(axis=0)
    fitted = ipf_2d(truth * distortion, rows.astype(float), cols.astype(float))
    rounded = controlled_round(fitted, rows, cols)
    assert rounded.sum(axis=1).tolist() == rows.tolist()
    assert rounded.sum(axis=0).tolist() == cols.tolist()
    assert np.all(np.abs(rounded - fitted) < 1.0 + 1e-6)
    assert np.all(rounded >= 0)


def test_mapping_2011_lsoas_to_2021_keeps_every_person() -> None:
    geo = Geography.load(resolve_region("gm"))
    mapped = mid2020_on_lsoa21(list(geo.lsoas["lsoa21_code"]))
    # ONS mid-2020, GM's 1,673 2011-LSOAs: 2,848,286 people (data README).
    assert mapped.to_numpy().sum() == pytest.approx(2_848_286, abs=1e-6)
    shares = change_shares(list(geo.lsoas["lsoa21_code"]))
    np.testing.assert_allclose(shares.groupby("lsoa11_code")["share"].sum(), 1.0)


def test_full_scale_fit_reproduces_census_2021_by_authority_sex_and_age() -> None:
    geo = Geography.load(resolve_region("gm"))
    fitted = [fit_council(part, 1.0) for part in council_parts(geo)]
    census = census_by_lad(geo.region.lad_codes)
    total = 0
    for authority in fitted:
        np.testing.assert_array_equal(authority.counts.sum(axis=0), census[authority.lad_code])
        total += int(authority.counts.sum())
    assert total == 2_867_752  # Census 2021, GM usual residents by single year of age


def test_scaled_fit_is_proportional_and_whole() -> None:
    geo = Geography.load(resolve_region("E08000009"))
    (part,) = council_parts(geo)
    full = fit_council(part, 1.0).counts
    tenth = fit_council(part, 0.1).counts
    assert tenth.sum() == round(0.1 * full.sum())
    by_age_sex = tenth.sum(axis=0) / full.sum(axis=0).clip(min=1)
    assert abs(float(np.median(by_age_sex)) - 0.1) < 0.01


def test_an_authority_without_a_vendored_census_table_is_refused() -> None:
    with pytest.raises(RegionError, match="no Census 2021 population"):
        census_by_lad(["E06999999"])
