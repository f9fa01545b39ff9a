"""Who is who across partitions: each council's block of person ids and NHS numbers.

Councils are built apart, in any order and in separate processes, yet every resident of a
region needs an id and an NHS number no other resident has. Each English council owns a fixed
block of each, laid out in council-code order over all of England and sized from its Census
2021 residents with room for every birth a ten-year build can add. The blocks depend on
nothing but the vendored census, so a council's residents have the same ids whether it is
built alone, with its combined authority, or with all of England.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Final

from carepool.errors import ConfigError
from carepool.population.census import census_residents

#: The most years a build can run (:class:`carepool.population.build.BuildRequest`).
MAX_BUILD_YEARS: Final = 10
#: Births a year, per resident, that a block leaves room for: about three times England's
#: crude birth rate (10.3 per 1,000 in 2023), and a model's births follow its fertility.
BIRTHS_A_YEAR_ROOM: Final = 0.03
#: The synthetic NHS numbers' range (:data:`carepool.population.generator.NHS_NUMBER_BASE`):
#: nine-digit bases 900,000,000 to 999,999,999, before the check digit.
NHS_BASES: Final = 100_000_000


@dataclass(frozen=True)
class IdBlock:
    """One council's ids ``first_id .. first_id + capacity - 1`` and its NHS numbers' bases
    from ``nhs_start`` (an offset into the synthetic range)."""

    first_id: int
    capacity: int
    nhs_start: int


def _nhs_bases(capacity: int) -> int:
    """Bases enough for ``capacity`` valid NHS numbers (one base in eleven has none), with
    the margin :func:`carepool.population.generator.nhs_numbers` asks for."""
    return capacity + capacity // 8 + 16


@cache
def id_blocks() -> dict[str, IdBlock]:
    """``{lad_code: IdBlock}`` for every English council (2024 codes)."""
    blocks: dict[str, IdBlock] = {}
    next_id, next_base = 1, 0
    for code, residents in sorted(census_residents().items()):
        capacity = residents + math.ceil(residents * BIRTHS_A_YEAR_ROOM * MAX_BUILD_YEARS) + 1_000
        blocks[code] = IdBlock(first_id=next_id, capacity=capacity, nhs_start=next_base)
        next_id += capacity
        next_base += _nhs_bases(capacity)
    if next_base > NHS_BASES:
        raise ConfigError(
            f"the councils' NHS number blocks need {next_base:,} bases, more than the "
            f"{NHS_BASES:,} of the synthetic range"
        )
    return blocks


def id_block(lad_code: str) -> IdBlock:
    try:
        return id_blocks()[lad_code]
    except KeyError:
        raise ConfigError(f"{lad_code}: no Census 2021 residents, so no block of ids") from None
