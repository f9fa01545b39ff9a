"""How published counts nest, as the published definitions tell anyone who reads them.

Security-sensitive. The differencing audit (:mod:`carepool.indicators.differencing`) must
play an attacker who knows what the method pages say: a proportion's numerator counts some
of the people its denominator counts (screened out of eligible); deaths from cancer and from
circulatory disease are deaths, and no death is both; deaths under 75 are deaths of men or
women at any age. Each relation holds within every LSOA, and set against each other across
tables they can bound a hidden count that each table on its own protects.

**The model.** Each count is a sum of *atoms* over the same people: the measure's place in
its family (a measure and those declared ``within`` it, with the groups declared disjoint),
crossed with sex and the age bands the counts of the family distinguish. Counts of one family
and period share their atoms; an atom is the set of people every count either wholly holds or
wholly leaves out, so the attacker's model is as tight as the definitions allow and no
tighter: counts of unrelated measures share nothing, and a count of a measure no definition
relates is an atom of its own.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from carepool.indicators.definitions import Indicator
from carepool.indicators.measures import ALL_MEASURES, DISJOINT_MEASURES

SEXES = frozenset({"male", "female"})
#: Measures in one family, beyond which the enumeration of their Venn regions is refused
#: (2^n subsets): a family is a handful of measures.
_MAX_FAMILY = 12


@dataclass(frozen=True)
class Count:
    """Who one published count counts: a measure of the people of some sexes and ages."""

    measure: str
    sexes: tuple[str, ...]
    min_age: int
    max_age: int | None

    @property
    def family(self) -> str:
        """The measure at the top of this one's ``within`` chain."""
        return family_of(self.measure)


def family_of(measure: str) -> str:
    seen = {measure}
    while (parent := _within(measure)) and parent not in seen:
        seen.add(parent)
        measure = parent
    return measure


def _within(measure: str) -> str:
    known = ALL_MEASURES.get(measure)
    return known.within if known is not None else ""


def counts_of(indicator: Indicator) -> dict[str, Count]:
    """What an indicator's numerator and denominator count."""
    sexes = tuple(sorted(SEXES if indicator.sex is None else {indicator.sex}))
    return {
        column: Count(measure, sexes, indicator.min_age, indicator.max_age)
        for column, measure in (
            ("numerator", indicator.numerator),
            ("denominator", indicator.denominator),
        )
    }


def _regions(measures: set[str]) -> list[frozenset[str]]:
    """The sets of measures one person can be counted by at once: each holds the measure
    every member is ``within`` (and so the family's top), and never two declared disjoint."""
    family = sorted(measures)
    if len(family) > _MAX_FAMILY:
        raise ValueError(f"a family of {len(family)} measures is too many to relate")
    regions = []
    for chosen in itertools.product((False, True), repeat=len(family)):
        region = frozenset(m for m, inside in zip(family, chosen, strict=True) if inside)
        if not region:
            continue
        if any(_within(m) and _within(m) not in region for m in region):
            continue
        if any(len(region & group) > 1 for group in DISJOINT_MEASURES):
            continue
        regions.append(region)
    return regions


def atoms(counts: Sequence[Count]) -> list[frozenset[int]]:
    """Each count (all of one family) as the set of atoms it sums, atoms numbered from 0.

    Atoms are the classes of (region, sex, age band) cells that the counts cannot tell apart;
    cells no count holds are left out.
    """
    measures: set[str] = set()
    for count in counts:
        measure = count.measure
        while measure and measure not in measures:
            measures.add(measure)
            measure = _within(measure)
    cuts = sorted(
        {0} | {c.min_age for c in counts} | {c.max_age + 1 for c in counts if c.max_age is not None}
    )
    bands = list(zip(cuts, [*cuts[1:], None], strict=True))
    numbered: dict[frozenset[int], int] = {}
    holds: list[set[int]] = [set() for _ in counts]
    for region, sex, (low, high) in itertools.product(_regions(measures), sorted(SEXES), bands):
        signature = frozenset(
            i
            for i, c in enumerate(counts)
            if c.measure in region
            and sex in c.sexes
            and low >= c.min_age
            and (c.max_age is None or (high is not None and high - 1 <= c.max_age))
        )
        if not signature:
            continue
        atom = numbered.setdefault(signature, len(numbered))
        for i in signature:
            holds[i].add(atom)
    return [frozenset(h) for h in holds]


@dataclass(frozen=True)
class Nesting:
    """What the attacker knows of every published indicator's counts."""

    counts: dict[str, dict[str, Count]]

    @classmethod
    def of(cls, indicators: Iterable[Indicator]) -> Nesting:
        return cls({indicator.id: counts_of(indicator) for indicator in indicators})

    def count(self, indicator: str, column: str) -> Count | None:
        return self.counts.get(indicator, {}).get(column)

    def digest(self) -> str:
        """A digest of the relations the attacker knows, so an audit recorded under other
        knowledge is not taken for this one."""
        text = repr(
            (
                sorted((i, sorted(c.items())) for i, c in self.counts.items()),
                sorted((m.name, m.within) for m in ALL_MEASURES.values()),
                sorted(sorted(group) for group in DISJOINT_MEASURES),
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]
