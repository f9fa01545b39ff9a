"""Footprints: any named set of neighbourhoods, with a weight on each membership.

Councils nest exactly (every LSOA belongs wholly to one local authority), but much of health
and care does not: an NHS footprint can cross council boundaries, a neighbourhood team can be
built from parts of wards, a 2011 LSOA was split or merged into 2021 ones. carepool treats all
of these the same way: a footprint is a set of ``(lsoa21_code, weight)`` memberships, where the
weight is the share of that LSOA's residents counted in the footprint. Exact nesting is just the
case where every weight is 1.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pyarrow as pa

from carepool.errors import ConfigError
from carepool.geography.codes import is_lsoa

MEMBERSHIP_SCHEMA = pa.schema(
    [
        pa.field("footprint_kind", pa.string(), nullable=False),
        pa.field("footprint_code", pa.string(), nullable=False),
        pa.field("footprint_name", pa.string(), nullable=False),
        pa.field("lsoa21_code", pa.string(), nullable=False),
        pa.field("weight", pa.float64(), nullable=False),
    ]
)


@dataclass(frozen=True)
class Footprint:
    """A named set of 2021 LSOAs with membership weights in (0, 1]."""

    kind: str
    code: str
    name: str
    members: tuple[tuple[str, float], ...]

    def __post_init__(self) -> None:
        if not self.members:
            raise ConfigError(f"footprint {self.kind}:{self.code} has no member LSOAs")
        seen: set[str] = set()
        for lsoa, weight in self.members:
            if not is_lsoa(lsoa):
                raise ConfigError(
                    f"footprint {self.kind}:{self.code}: {lsoa!r} is not a 2021 LSOA code "
                    "(expected E01 followed by 6 digits)"
                )
            if not 0.0 < weight <= 1.0:
                raise ConfigError(
                    f"footprint {self.kind}:{self.code}: weight {weight} for {lsoa} "
                    "is outside (0, 1]"
                )
            if lsoa in seen:
                raise ConfigError(f"footprint {self.kind}:{self.code}: {lsoa} is listed twice")
            seen.add(lsoa)

    @property
    def nests(self) -> bool:
        """True when every member LSOA belongs wholly to the footprint."""
        return all(weight == 1.0 for _, weight in self.members)

    def weighted_sum(self, values: dict[str, float]) -> float:
        """Sum an LSOA-level count over the footprint, counting each LSOA by its weight."""
        return sum(values.get(lsoa, 0.0) * weight for lsoa, weight in self.members)


def memberships_table(footprints: Iterable[Footprint]) -> pa.Table:
    """The long table ``footprint_kind, footprint_code, footprint_name, lsoa21_code, weight``."""
    kinds: list[str] = []
    codes: list[str] = []
    names: list[str] = []
    lsoas: list[str] = []
    weights: list[float] = []
    for fp in footprints:
        for lsoa, weight in fp.members:
            kinds.append(fp.kind)
            codes.append(fp.code)
            names.append(fp.name)
            lsoas.append(lsoa)
            weights.append(weight)
    return pa.table([kinds, codes, names, lsoas, weights], schema=MEMBERSHIP_SCHEMA)
