"""What holds for anyone: the person and the council pay the cost between them, never less than
nothing or more than it; the person never pays more under a cap than without one; a person
with more capital never pays less."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.charging import Person, charge, charging_rules

POLICY_RULES = {
    name: charging_rules("2026-27", name)
    for name in ("means-test", "raised-limits", "cap", "free-personal-care")
}

people = st.builds(
    Person,
    setting=st.sampled_from(["care-home", "community"]),
    weekly_cost_pence=st.integers(1, 3_000_00),
    savings_pence=st.integers(0, 400_000_00),
    property_pence=st.integers(0, 600_000_00),
    property_disregarded=st.booleans(),
    weekly_income_pence=st.integers(0, 800_00),
    age=st.integers(18, 105),
    metered_pence=st.integers(0, 86_000_00),
)


@settings(max_examples=150, deadline=None)
@given(person=people, policy=st.sampled_from(sorted(POLICY_RULES)))
def test_person_and_council_pay_the_cost_between_them(person: Person, policy: str) -> None:
    answer = charge(person, POLICY_RULES[policy], weeks=156)
    assert answer.person_pays_pence + answer.council_pays_pence == person.weekly_cost_pence
    assert 0 <= answer.person_pays_pence <= person.weekly_cost_pence
    for year in answer.years:
        assert year.person_pays_pence + year.council_pays_pence == 52 * person.weekly_cost_pence
        assert year.person_pays_pence >= 0
        assert year.council_pays_pence >= 0
        assert year.capital_left_pence >= 0


@settings(max_examples=150, deadline=None)
@given(person=people)
def test_nobody_pays_more_under_a_cap_than_without_it(person: Person) -> None:
    """The cap against the same capital limits without it; free personal care (a cap at
    nothing) against today's means test: in the first week and over three years."""
    for capped, uncapped in (("cap", "raised-limits"), ("free-personal-care", "means-test")):
        with_cap = charge(person, POLICY_RULES[capped], weeks=156)
        without = charge(person, POLICY_RULES[uncapped], weeks=156)
        assert with_cap.person_pays_pence <= without.person_pays_pence
        assert sum(y.person_pays_pence for y in with_cap.years) <= sum(
            y.person_pays_pence for y in without.years
        )


@settings(max_examples=100, deadline=None)
@given(person=people, more=st.integers(0, 100_000_00))
def test_more_capital_never_means_paying_less_in_the_first_week(person: Person, more: int) -> None:
    richer = Person(**{**vars(person), "savings_pence": person.savings_pence + more})
    for rules in POLICY_RULES.values():
        assert (
            charge(richer, rules, weeks=52).person_pays_pence
            >= charge(person, rules, weeks=52).person_pays_pence
        )
