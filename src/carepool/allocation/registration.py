"""Who an allocation counts: the borough's residents, or the patients on its GP lists.

Councils' formulae count residents (ONS estimates), and the model's people are residents.
NHS England allocates on GP registered lists, which are larger: people registered in one
borough but living in another or outside the region, students registered near their
college, and list inflation (patients who have moved away or died and are not yet removed).
Greater Manchester's lists hold about 3.3 million patients for 2.87 million residents;
Manchester's 745,000 for 552,000, so counting patients moves its share.

``--population registered`` counts each borough's people as its registered patients: every
LSOA's person-years, and its activity with them, are scaled by the borough's registered list
over its Census 2021 residents (:func:`registration_factors`). That supposes the extra
patients look like the borough's residents (age, sex, need), which is what the model can
say about people it does not hold; need per head is unchanged, each borough's head count is
its list's. The lists are NHS England's (allocation tool, practices summed by locality),
vendored for Greater Manchester's ten localities only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from typing import Final

import numpy as np
import numpy.typing as npt

from carepool.allocation.inputs import NeedData
from carepool.errors import AllocationError
from carepool.population import census_by_lad
from carepool.reference import read_reference

Array = npt.NDArray[np.float64]
POPULATIONS: Final = ("resident", "registered")
#: Residents: the people every partner's services are for, and whom the model holds.
DEFAULT_POPULATION: Final = "resident"
#: The registered lists used: those behind NHS England's latest allocations vendored
#: (2025/26, lists of November 2023 to October 2024).
LISTS_YEAR: Final = "2025/26"
_COMPONENT = "core_services_overall"


@dataclass(frozen=True)
class RegisteredLists:
    """Each locality's registered list and Census 2021 residents, by local authority code."""

    year: str
    registered: dict[str, int]
    residents: dict[str, int]

    def factor(self, lad_code: str) -> float:
        """Registered patients per resident."""
        return self.registered[lad_code] / self.residents[lad_code]


@cache
def registered_lists() -> RegisteredLists:
    """The vendored lists of :data:`LISTS_YEAR`, with each borough's Census 2021 residents."""
    frame = read_reference(
        "gm_icb_need_indices",
        columns=["allocation_year", "area_code", "component", "registered_population"],
    ).to_pandas()
    rows = frame[
        (frame["allocation_year"] == LISTS_YEAR)
        & (frame["component"] == _COMPONENT)
        & frame["area_code"].str.startswith("E0")
    ]
    registered = {
        str(code): int(n)
        for code, n in zip(rows["area_code"], rows["registered_population"], strict=True)
    }
    census = census_by_lad(sorted(registered))
    residents = {code: int(table.sum()) for code, table in census.items()}
    return RegisteredLists(LISTS_YEAR, registered, residents)


def check_population(population: str) -> str:
    if population not in POPULATIONS:
        raise AllocationError(
            f"population {population!r}: expected one of {', '.join(POPULATIONS)}"
        )
    return population


def registration_factors(lad_codes: npt.NDArray[np.str_]) -> Array:
    """Registered patients per resident of each LSOA's local authority."""
    lists = registered_lists()
    missing = sorted(set(map(str, lad_codes)) - set(lists.registered))
    if missing:
        raise AllocationError(
            f"no GP registered lists are vendored for {', '.join(missing)} (only Greater "
            f"Manchester's ten localities, {lists.year}); use --population resident"
        )
    by_lad = {code: lists.factor(code) for code in lists.registered}
    return np.array([by_lad[str(code)] for code in lad_codes], dtype=np.float64)


def counted_as(data: NeedData, population: str) -> NeedData:
    """``data`` with its people counted as ``population``: unchanged for residents; for
    registered patients, every LSOA's population and activity scaled by its borough's
    registered list over its residents."""
    if check_population(population) == "resident":
        return data
    factors = registration_factors(data.lad_codes)[:, None, None]
    lists = registered_lists()
    return replace(
        data,
        population=data.population * factors,
        activity={service: counts * factors for service, counts in data.activity.items()},
        population_basis="registered",
        description=(
            f"{data.description}, counted as GP registered patients (each borough's "
            f"{lists.year} registered list over its Census 2021 residents, NHS England)"
        ),
    )
