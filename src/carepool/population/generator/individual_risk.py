"""How a group's rate is shared among its members: mean-one multipliers of individual risk.

A published rate is for a group (an age band, a quintile); the generator gives each person a
multiplier from their conditions and latent health, then rescales the multipliers to mean one
within the group, so individual risk redistributes the group's events without changing their
expected number.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def normalise_within(
    values: FloatArray, groups: IntArray, mask: BoolArray | None = None
) -> FloatArray:
    """Divide ``values`` by their mean within each group (over ``mask`` where given)."""
    m = np.ones(values.shape, dtype=bool) if mask is None else mask
    n_groups = int(groups.max()) + 1 if groups.size else 0
    sums = np.bincount(groups[m], weights=values[m], minlength=n_groups)
    counts = np.bincount(groups[m], minlength=n_groups)
    means = np.divide(sums, counts, out=np.ones(n_groups), where=counts > 0)
    means[means == 0] = 1.0
    return values / means[groups]


def mean_one_lognormal(z: FloatArray, sd: float) -> FloatArray:
    """``exp(sd * z)`` scaled to mean one over a standard normal ``z``."""
    return np.asarray(np.exp(sd * z - 0.5 * sd * sd), dtype=np.float64)
