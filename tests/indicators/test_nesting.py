"""What the attacker knows of how counts nest, and the audit that knows it too."""

from __future__ import annotations

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carepool.indicators import BY_ID, HES_RULE, INDICATORS
from carepool.indicators.differencing import audit
from carepool.indicators.nesting import Nesting, atoms
from carepool.indicators.publish import keyed_counts
from tests.indicators.test_differencing import _counts as differencing_counts
from tests.indicators.test_differencing import _members
from tests.security.lp_attacker import narrowed_proportion

PROPORTION = BY_ID["ld_health_checks"]


def _atoms(*ids_columns: tuple[str, str]) -> list[frozenset[int]]:
    nesting = Nesting.of(INDICATORS)
    counts = [nesting.count(i, c) for i, c in ids_columns]
    assert all(count is not None for count in counts)
    return atoms([c for c in counts if c is not None])


def test_deaths_nest_as_the_definitions_say() -> None:
    """Cancer and circulatory deaths under 75 are disjoint parts of deaths under 75, which are
    part of the deaths of men and women, which are disjoint."""
    cancer, cvd, under_75, men, women = _atoms(
        ("u75_mortality_cancer", "numerator"),
        ("u75_mortality_cvd", "numerator"),
        ("u75_mortality_all_causes", "numerator"),
        ("life_expectancy_male", "numerator"),
        ("life_expectancy_female", "numerator"),
    )
    assert not cancer & cvd
    assert cancer | cvd < under_75
    assert under_75 < men | women
    assert not men & women


def test_a_numerator_is_part_of_its_denominator() -> None:
    for indicator in INDICATORS:
        if indicator.method.name != "PROPORTION":
            continue
        numerator, denominator = _atoms((indicator.id, "numerator"), (indicator.id, "denominator"))
        assert numerator < denominator, indicator.id


def test_unrelated_measures_share_nothing() -> None:
    """Counts of one measure for different ages are disjoint where the ages are."""
    younger, older = _atoms(
        ("cervical_screening_coverage_25_49", "denominator"),
        ("cervical_screening_coverage_50_64", "denominator"),
    )
    assert not younger & older


def _counts(members: pd.DataFrame, done: list[int], eligible: list[int]) -> pd.DataFrame:
    return differencing_counts(members, done, eligible, PROPORTION.id)


@st.composite
def proportions(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Small random geographies whose levels cut across each other, with a proportion's
    numerator at most its denominator in each LSOA, both often small."""
    lsoas = draw(st.integers(8, 20))
    group = st.lists(st.integers(0, 4), min_size=lsoas, max_size=lsoas)
    members = _members({"msoa": sorted(draw(group)), "ward": draw(group), "decile": draw(group)})
    eligible = draw(
        st.lists(st.sampled_from([0, 1, 3, 5, 7, 9, 12, 20]), min_size=lsoas, max_size=lsoas)
    )
    share = draw(st.lists(st.floats(0, 1), min_size=lsoas, max_size=lsoas))
    done = [int(e * s) for e, s in zip(eligible, share, strict=True)]
    return members, _counts(members, done, eligible)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(proportions())
def test_no_small_count_narrowed_by_numerator_within_denominator(
    case: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    members, counts = case
    keyed, relations = keyed_counts(counts, [PROPORTION], members)
    published = audit(keyed, relations, members, HES_RULE, Nesting.of([PROPORTION])).pattern
    assert narrowed_proportion(published, counts, members) == []


def test_counts_that_break_the_definitions_are_audited_unrelated() -> None:
    """A loaded extract can count someone screened who was not eligible; the attacker's
    relation then does not hold, and the audit, which must take the truth for a point the
    attacker cannot rule out, audits those counts apart and says so."""
    members = _members({"msoa": [0, 0, 1, 1, 2, 2, 3, 3]})
    counts = _counts(members, [3, 0, 2, 9, 1, 0, 4, 2], [2, 5, 2, 9, 3, 8, 4, 2])
    keyed, relations = keyed_counts(counts, [PROPORTION], members)
    result = audit(keyed, relations, members, HES_RULE, Nesting.of([PROPORTION]))
    assert result.report["unrelated"] == [
        f"{PROPORTION.id} 2024-25 numerator; {PROPORTION.id} 2024-25 denominator"
    ]
    assert result.report["nested_blocks"] == 0
