"""Sharing what prevention saves between the partners: Shapley values, the core, and the
contribution schedules a gain-share agreement could name.

A game gives each coalition S of partners its value v(S): what S gains, net of costs, if its
members pool their money and act alone. The **Shapley value** (Shapley 1953) gives each
partner its mean marginal contribution over every order of joining; it is the only rule that
is efficient (the shares sum to v(N)), symmetric, gives nothing to a partner who adds nothing,
and adds up over games. The **core** (Gillies 1953) is every split in which no coalition gets
less than it could alone; when the Shapley value is outside it, the least-core split (the one
that maximises the smallest surplus over any coalition, a linear programme) is offered
instead, and if even that leaves some coalition short, there is no schedule in which every
group is at least as well off as staying out, and the schedule says so. docs/methods/
prevention.md gives the formulae and a worked example.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog

from carepool.errors import AppraisalError

Array = npt.NDArray[np.float64]
#: Exact Shapley values enumerate 2^n coalitions: beyond this many partners, refuse.
MAX_PLAYERS = 16
TOLERANCE = 1e-6


@dataclass(frozen=True)
class Game:
    """A characteristic function over ``players``: ``values[mask]`` is v(S), where bit i of
    ``mask`` says whether ``players[i]`` is in S."""

    players: tuple[str, ...]
    values: Array

    def __post_init__(self) -> None:
        if len(self.players) > MAX_PLAYERS:
            raise AppraisalError(
                f"{len(self.players)} partners: exact fair shares take at most {MAX_PLAYERS}"
            )
        if self.values.shape != (1 << len(self.players),):
            raise ValueError("a game needs one value per coalition")
        if abs(self.values[0]) > TOLERANCE:
            raise ValueError("the empty coalition is worth nothing")

    @classmethod
    def from_function(
        cls, players: Sequence[str], value: Callable[[frozenset[str]], float]
    ) -> Game:
        names = tuple(players)
        values = np.array(
            [
                value(frozenset(p for i, p in enumerate(names) if mask >> i & 1))
                for mask in range(1 << len(names))
            ],
            dtype=np.float64,
        )
        return cls(names, values)

    @property
    def grand(self) -> float:
        return float(self.values[-1])

    def __add__(self, other: Game) -> Game:
        if self.players != other.players:
            raise ValueError("games over different partners cannot be added")
        return Game(self.players, self.values + other.values)


def shapley(game: Game) -> Array:
    """φ_i = Σ_{S ⊆ N∖{i}} |S|! (n − |S| − 1)! / n! · (v(S ∪ {i}) − v(S)), exactly."""
    n = len(game.players)
    masks = np.arange(1 << n)
    sizes = np.array([bin(m).count("1") for m in masks])
    weight = np.array(
        [
            math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) if s < n else 0.0
            for s in sizes
        ]
    )
    out = np.zeros(n)
    for i in range(n):
        without = masks[(masks >> i & 1) == 0]
        out[i] = float(
            np.sum(weight[without] * (game.values[without | (1 << i)] - game.values[without]))
        )
    return out


def shortfalls(game: Game, split: Array) -> Array:
    """v(S) − Σ_{i∈S} x_i for every coalition: positive where S would do better alone."""
    n = len(game.players)
    masks = np.arange(1 << n)
    members = (masks[:, None] >> np.arange(n)) & 1
    result: Array = game.values - members @ split
    return result


def in_core(game: Game, split: Array) -> bool:
    return bool(np.all(shortfalls(game, split)[1:-1] <= TOLERANCE * max(1.0, abs(game.grand))))


def least_core(game: Game) -> tuple[Array, float]:
    """The split of v(N) that maximises the smallest surplus ε of any proper coalition, and ε
    (ε ≥ 0: the core is not empty and the split is in it)."""
    n = len(game.players)
    masks = np.arange(1, (1 << n) - 1)
    members = ((masks[:, None] >> np.arange(n)) & 1).astype(np.float64)
    # variables x_1..x_n, ε; maximise ε: minimise -ε
    c = np.zeros(n + 1)
    c[-1] = -1.0
    a_ub = np.hstack([-members, np.ones((len(masks), 1))])  # ε - Σx ≤ -v(S)
    b_ub = -game.values[masks]
    a_eq = np.hstack([np.ones((1, n)), np.zeros((1, 1))])
    solved = linprog(
        c,
        A_ub=a_ub if len(masks) else None,
        b_ub=b_ub if len(masks) else None,
        A_eq=a_eq,
        b_eq=[game.grand],
        bounds=[(None, None)] * (n + 1),
        method="highs",
    )
    if not solved.success:  # pragma: no cover - the LP is always feasible and bounded
        raise AppraisalError(f"the least core could not be found: {solved.message}")
    return np.asarray(solved.x[:n], dtype=np.float64), float(solved.x[-1]) if len(masks) else 0.0


@dataclass(frozen=True)
class Schedule:
    """One way of sharing an intervention's costs: what each partner pays in and is left with."""

    rule: str
    contributions: Array
    net: Array
    #: partners left with less than they would have by staying out on their own
    worse_off: tuple[str, ...]


@dataclass(frozen=True)
class FairShares:
    """The Shapley split, the schedule offered, and the two plain rules beside it."""

    players: tuple[str, ...]
    stand_alone: Array
    shapley: Array
    shapley_in_core: bool
    #: the schedule a board could sign: Shapley if it is in the core, else the least core,
    #: else ``None`` (no schedule leaves every coalition at least as well off as alone)
    offered: Schedule | None
    statement: str
    own_services: Schedule
    proportional: Schedule


def _worse_off(players: Sequence[str], net: Array, alone: Array) -> tuple[str, ...]:
    return tuple(p for p, x, a in zip(players, net, alone, strict=True) if x < a - TOLERANCE)


def fair_shares(game: Game, benefits: Array, costs: Array) -> FairShares:
    """The schedules for a game whose grand coalition gains ``benefits`` (gross, per partner)
    at ``costs`` (as first borne, per partner): v(N) = Σ benefits − Σ costs when worthwhile."""
    players = game.players
    alone = np.array([game.values[1 << i] for i in range(len(players))])
    phi = shapley(game)
    total_cost = float(costs.sum())
    total_benefit = float(benefits.sum())
    own = Schedule("each pays for its own services", costs, benefits - costs, ())
    own = Schedule(own.rule, own.contributions, own.net, _worse_off(players, own.net, alone))
    share = (
        benefits / total_benefit if total_benefit > 0 else np.full(len(players), 1 / len(players))
    )
    paid = total_cost * share
    proportional = Schedule(
        "in proportion to benefit",
        paid,
        benefits - paid,
        _worse_off(players, benefits - paid, alone),
    )
    core = in_core(game, phi)
    if core:
        offered: Schedule | None = Schedule("Shapley value", benefits - phi, phi, ())
        statement = "The Shapley split is in the core: no partner or group does better alone."
    else:
        split, epsilon = least_core(game)
        if epsilon >= -TOLERANCE * max(1.0, abs(game.grand)):
            offered = Schedule("least core", benefits - split, split, ())
            statement = (
                "The Shapley split leaves some group better off alone; the least-core split "
                "does not, and is offered instead."
            )
        else:
            offered = None
            statement = (
                "No schedule exists under which every partner and group is at least as well "
                f"off as staying out: some coalition falls short by {-epsilon:,.0f} at best."
            )
    return FairShares(players, alone, phi, core, offered, statement, own, proportional)
