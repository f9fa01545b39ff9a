"""Ages in the projection: single years 0..100 (the last open), the censuses' five-year groups
(0-4 .. 80-84, 85 and over), and the broad groups a back-cast is judged by.

Splitting a five-year count into single years spreads it evenly over the five; the open group
85+ is spread over 85..100 in proportion to a life table's survivors, as a stationary
population would be. Summing back to groups gives exactly the counts split.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from carepool.projection.cohort import AGES

FloatArray = npt.NDArray[np.float64]

#: Lower bounds of the census five-year groups: 0-4, 5-9, ..., 80-84, 85+.
GROUP_STARTS: Final = tuple(range(0, 90, 5))
GROUP_LABELS: Final = tuple(
    f"{start}-{start + 4}" if start < 85 else "85+" for start in GROUP_STARTS
)
#: Each single year of age's five-year group.
GROUP_OF_AGE: Final = np.minimum(np.arange(AGES) // 5, len(GROUP_STARTS) - 1)

#: The broad groups of the back-cast's verdict: children, working ages, older people.
BROAD_GROUPS: Final = {"0-14": (0, 15), "15-64": (15, 65), "65+": (65, AGES)}
#: Finer groups shown beside them.
FINE_GROUPS: Final = {
    "0-14": (0, 15),
    "15-29": (15, 30),
    "30-44": (30, 45),
    "45-64": (45, 65),
    "65-84": (65, 85),
    "85+": (85, AGES),
}


def to_groups(population: FloatArray) -> FloatArray:
    """Single years (last axis, 101) summed into the 18 census groups."""
    shape = population.shape[:-1]
    closed = population[..., :85].reshape(*shape, 17, 5).sum(axis=-1)
    open_group = population[..., 85:].sum(axis=-1, keepdims=True)
    groups: FloatArray = np.concatenate([closed, open_group], axis=-1)
    return groups


def split_groups(groups: FloatArray, survivors: FloatArray) -> FloatArray:
    """The 18 census groups (last axis) as single years 0..100.

    ``survivors`` is a life table's l(x) for ages 0..100, broadcasting against the leading
    axes (e.g. ``(sex, 101)``): the open group is shared over 85..100 in proportion to it.
    """
    single = np.zeros((*groups.shape[:-1], AGES))
    for index, start in enumerate(GROUP_STARTS[:-1]):
        single[..., start : start + 5] = groups[..., index, None] / 5.0
    tail = np.broadcast_to(survivors, (*groups.shape[:-1], AGES))[..., 85:]
    share = tail / tail.sum(axis=-1, keepdims=True)
    single[..., 85:] = groups[..., -1, None] * share
    return single


def band_sums(population: FloatArray, bands: dict[str, tuple[int, int]]) -> dict[str, FloatArray]:
    """Single years summed into named bands ``{label: (first age, one past the last)}``."""
    return {label: population[..., lo:hi].sum(axis=-1) for label, (lo, hi) in bands.items()}
