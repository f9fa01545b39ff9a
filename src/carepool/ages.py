"""Age bands: the one home of how an age is put in a band, in numpy and on the engine.

Every band set is an :class:`AgeBands`. The two shared ones are here: the **standard** bands
(0, 1-4, 5-9, ..., 85-89, 90+) of the life table and the 2013 European Standard Population
(:mod:`carepool.stats`), used by the indicators and the model's validation, and the
**five-year** bands (0-4, 5-9, ..., 80-84, 85+) of the allocation formula's cost curves. Band
sets that belong to one source are declared beside it (the rates card's condition and
service bands in the population's parameters, the European Standard Population's own
five-year columns in the indicators). Code that bands ages asks its :class:`AgeBands`, in numpy
(:meth:`AgeBands.index`) or as an Ibis expression that runs on any engine
(:meth:`AgeBands.index_expr`, :meth:`AgeBands.start_expr`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt

from carepool.stats import BAND_STARTS as STANDARD_STARTS


@dataclass(frozen=True)
class AgeBands:
    """Bands given by their start ages, ascending from 0; the last band is open."""

    starts: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.starts or self.starts[0] != 0 or list(self.starts) != sorted(set(self.starts)):
            raise ValueError(f"band starts must ascend from 0, got {self.starts}")

    def __len__(self) -> int:
        return len(self.starts)

    @cached_property
    def labels(self) -> tuple[str, ...]:
        """``0``, ``1-4``, ..., ``90+``."""
        ends = [s - 1 for s in self.starts[1:]]
        closed = [f"{a}" if a == b else f"{a}-{b}" for a, b in zip(self.starts, ends, strict=False)]
        return (*closed, f"{self.starts[-1]}+")

    def index(self, age: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Index of each age's band (ages above the last start fall in the open band)."""
        found: npt.NDArray[np.int64] = (
            np.searchsorted(np.asarray(self.starts), np.asarray(age), side="right") - 1
        )
        return found

    def boundary_index(self, age: int) -> int:
        """The index of the band that starts at ``age``; a ValueError if none does."""
        if age not in self.starts:
            shown = ", ".join(map(str, self.starts[:3])) + f", ..., {self.starts[-1]}"
            raise ValueError(f"{age} is not a band boundary ({shown})")
        return self.starts.index(age)

    @cached_property
    def _regular(self) -> tuple[int, int | None]:
        """``(k, width)``: from band ``k`` on, the bands are ``width`` years wide and start on
        multiples of ``width``, so an engine can band those ages by integer division; the
        bands before ``k`` are cases. ``width`` is None when only the open band is left."""
        last = len(self.starts) - 1
        if last == 0:
            return 0, None
        width = self.starts[-1] - self.starts[-2]
        k = last
        while k > 0 and self.starts[k] - self.starts[k - 1] == width:
            k -= 1
        if self.starts[k] % width:
            k += 1
        if self.starts[k] % width:
            return last, None
        return k, width

    def index_expr(self, age: ir.IntegerValue) -> ir.IntegerValue:
        """The band index of ``age`` as an engine expression (16-bit integer)."""
        k, width = self._regular
        last = len(self.starts) - 1
        regular: ir.IntegerValue = (
            ibis.literal(last)
            if width is None
            else ibis.least(age // width - self.starts[k] // width + k, last)
        )
        return self._cases(age, regular, lambda i: i).cast("int16")

    def start_expr(self, age: ir.IntegerValue) -> ir.IntegerValue:
        """The start age of ``age``'s band as an engine expression (16-bit integer)."""
        _, width = self._regular
        regular: ir.IntegerValue = (
            ibis.literal(self.starts[-1])
            if width is None
            else ibis.least((age // width) * width, self.starts[-1])
        )
        return self._cases(age, regular, lambda i: self.starts[i]).cast("int16")

    def _cases(
        self, age: ir.IntegerValue, regular: ir.IntegerValue, value: Callable[[int], int]
    ) -> ir.IntegerValue:
        """``regular`` past the irregular first bands; before them, ``value(band)``."""
        k, _ = self._regular
        if k == 0:
            return regular
        branches = [(age < self.starts[i + 1], value(i)) for i in range(k)]
        cased: ir.IntegerValue = ibis.cases(*branches, else_=regular)
        return cased


#: 0, 1-4, 5-9, ..., 85-89, 90+: the life table's and the European Standard Population's.
STANDARD = AgeBands(tuple(STANDARD_STARTS))
#: 0-4, 5-9, ..., 80-84, 85+: the allocation formula's cost curves.
FIVE_YEAR = AgeBands(tuple(range(0, 90, 5)))

__all__ = ["FIVE_YEAR", "STANDARD", "AgeBands"]
