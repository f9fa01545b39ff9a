"""Green Book discounting: the social time preference rate, for money and for health.

DF(0) = 1 and DF(t) = DF(t − 1) / (1 + r(t)), where r(t) is the rate of the band holding
year t: 3.5% a year for years 0-30 for money, 1.5% for health effects (HM Treasury Green Book
2022, Annex A6, and its supplementary discounting guidance), read from the vendored
``green_book_parameters`` so the schedule's later bands come with it.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import numpy.typing as npt

from carepool.errors import ReferenceDataError
from carepool.reference import read_reference

Array = npt.NDArray[np.float64]
SCHEDULES = {"money": "stpr_standard", "health": "stpr_health"}


@cache
def _bands(schedule: str) -> tuple[tuple[int, int, float], ...]:
    frame = read_reference(
        "green_book_parameters", columns=["parameter", "year_from", "year_to", "value"]
    ).to_pandas()
    rows = frame[frame["parameter"] == SCHEDULES[schedule]]
    if rows.empty:
        raise ReferenceDataError(f"green_book_parameters: no {SCHEDULES[schedule]} rows")
    return tuple(
        (int(a), int(b), float(v) / 100.0)
        for a, b, v in zip(rows["year_from"], rows["year_to"], rows["value"], strict=True)
    )


def rate(year: int, schedule: str = "money") -> float:
    """The discount rate that applies in ``year`` (0 is the first appraisal year)."""
    for first, last, value in _bands(schedule):
        if first <= year <= last:
            return value
    raise ReferenceDataError(f"green_book_parameters: no {schedule} rate for year {year}")


def discount_factors(years: int, schedule: str = "money") -> Array:
    """DF(0), ..., DF(years − 1)."""
    factors = np.ones(years)
    for t in range(1, years):
        factors[t] = factors[t - 1] / (1.0 + rate(t, schedule))
    return factors
