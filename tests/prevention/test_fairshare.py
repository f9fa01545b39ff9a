"""Fair shares: Shapley values against hand-worked cases, the core, and their properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carepool.errors import AppraisalError
from carepool.prevention import Game, fair_shares, shapley
from carepool.prevention.fairshare import in_core, least_core


def _game(players: list[str], worth: dict[frozenset[str], float]) -> Game:
    return Game.from_function(players, lambda s: worth.get(s, 0.0))


def test_two_partners_split_the_gain_from_pooling_equally() -> None:
    # the council alone gains 2 (it can run the scheme); the ICB alone nothing; together 10
    game = _game(
        ["icb", "council"], {frozenset({"council"}): 2.0, frozenset({"icb", "council"}): 10.0}
    )
    # by hand: φ_council = (2 + (10 - 0)) / 2 = 6, φ_icb = (0 + (10 - 2)) / 2 = 4
    assert shapley(game) == pytest.approx([4.0, 6.0])


def test_the_finance_references_three_partner_example() -> None:
    """v({ICB, LA}) = 6, v({ICB, Trust}) = 4, v({LA, Trust}) = 2, v(all) = 12: by hand over
    the six orders of joining, Shapley = (5, 4, 3), in the core (the finance reference)."""
    icb, la, trust = "ICB", "LA", "Trust"
    game = _game(
        [icb, la, trust],
        {
            frozenset({icb, la}): 6.0,
            frozenset({icb, trust}): 4.0,
            frozenset({la, trust}): 2.0,
            frozenset({icb, la, trust}): 12.0,
        },
    )
    phi = shapley(game)
    assert phi == pytest.approx([5.0, 4.0, 3.0])
    assert in_core(game, phi)
    split, epsilon = least_core(game)
    assert split.sum() == pytest.approx(12.0)
    assert epsilon >= 0


def test_an_empty_core_is_said_plainly() -> None:
    # any two of three can make 10 on their own, all three only 12: no split gives every
    # pair 10 (that needs 15), so no schedule leaves every group as well off as alone
    players = ["a", "b", "c"]
    worth = {frozenset(p): 10.0 for p in (("a", "b"), ("a", "c"), ("b", "c"))}
    worth[frozenset(players)] = 12.0
    game = _game(players, worth)
    shares = fair_shares(game, benefits=np.array([8.0, 8.0, 8.0]), costs=np.array([4.0, 4.0, 4.0]))
    assert not shares.shapley_in_core
    assert shares.offered is None
    assert "No schedule exists" in shares.statement


def test_the_schedule_leaves_each_partner_its_share_and_the_plain_rules_are_compared() -> None:
    # the council pays 10 for a scheme saving the ICB 14 and itself 2: alone it would not run it
    players = ["icb", "council"]
    game = _game(players, {frozenset(players): 6.0})
    shares = fair_shares(game, benefits=np.array([14.0, 2.0]), costs=np.array([0.0, 10.0]))
    assert shares.offered is not None
    assert shares.offered.net == pytest.approx([3.0, 3.0])
    # contributions: the ICB pays 11 of the 10 spent and 1 more to the council
    assert shares.offered.contributions == pytest.approx([11.0, -1.0])
    assert shares.offered.contributions.sum() == pytest.approx(10.0)
    # each paying for its own services leaves the council 8 down: worse off than staying out
    assert shares.own_services.worse_off == ("council",)
    assert shares.proportional.net == pytest.approx([14 - 10 * 14 / 16, 2 - 10 * 2 / 16])


def test_too_many_partners_for_exact_shares_is_a_clear_error() -> None:
    with pytest.raises(AppraisalError, match="at most 16"):
        Game(tuple(f"p{i}" for i in range(17)), np.zeros(1 << 17))


def _values(draw: st.DrawFn, n: int) -> np.ndarray:
    worth = [
        draw(st.floats(min_value=-100, max_value=100, allow_nan=False)) for _ in range((1 << n) - 1)
    ]
    return np.array([0.0, *worth])


@st.composite
def games(draw: st.DrawFn) -> Game:
    n = draw(st.integers(min_value=1, max_value=5))
    return Game(tuple(f"p{i}" for i in range(n)), _values(draw, n))


@st.composite
def pairs_of_games(draw: st.DrawFn) -> tuple[Game, Game]:
    n = draw(st.integers(min_value=1, max_value=5))
    players = tuple(f"p{i}" for i in range(n))
    return Game(players, _values(draw, n)), Game(players, _values(draw, n))


@settings(max_examples=60, deadline=None)
@given(games())
def test_shapley_values_sum_to_the_grand_coalitions_worth(game: Game) -> None:
    assert shapley(game).sum() == pytest.approx(game.grand, abs=1e-6)


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=0, max_value=50), st.floats(min_value=0, max_value=50))
def test_symmetric_partners_get_equal_shares(alone: float, extra: float) -> None:
    players = ["a", "b", "c"]
    worth = {frozenset({"a"}): alone, frozenset({"b"}): alone}
    worth[frozenset({"a", "b"})] = 2 * alone + extra
    worth[frozenset({"a", "c"})] = worth[frozenset({"b", "c"})] = alone + extra / 2
    worth[frozenset(players)] = 2 * alone + 2 * extra
    phi = shapley(_game(players, worth))
    assert phi[0] == pytest.approx(phi[1], abs=1e-9)


@settings(max_examples=40, deadline=None)
@given(pairs_of_games())
def test_shapley_adds_up_over_games(pair: tuple[Game, Game]) -> None:
    first, second = pair
    assert shapley(first + second) == pytest.approx(shapley(first) + shapley(second), abs=1e-6)
