"""Fitting the base population: iterative proportional fitting, then exact integer rounding.

For each local authority the fit combines two published tables:

* the ONS mid-2020 small-area estimates, re-based to 2021 LSOAs: each neighbourhood's size
  and age structure (the seed);
* Census 2021: the authority's residents by sex and single year of age (the controlling
  totals, the latest that are vendored for every authority).

IPF scales the LSOA x age seed until its age totals equal the census and its LSOA totals equal
the mid-2020 sizes scaled to the census total. The fitted table is then rounded to whole
people so that both margins hold exactly: LSOA totals by largest remainder, then each cell by
a maximum flow that rounds every cell up or down (never by more than one person) while keeping
every row and column total. Finally each LSOA x age count is split by sex in the census
authority-level proportion, again exactly. At scale 1 the result reproduces Census 2021 by
authority, sex and age to the person; at other scales every census cell is scaled and rounded
by largest remainder first.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow

from carepool.errors import ReferenceDataError
from carepool.stats import exact_share, largest_remainder

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def ipf_2d(
    seed: FloatArray,
    row_totals: FloatArray,
    col_totals: FloatArray,
    *,
    tol: float = 1e-9,
    max_iter: int = 1000,
) -> FloatArray:
    """Iterative proportional fitting of a 2-D table to row and column totals.

    Alternately scales rows and columns (Deming and Stephan, 1940) until every margin is within
    ``tol`` (relative) of its target. Zero cells stay zero.
    """
    if not np.isclose(row_totals.sum(), col_totals.sum(), rtol=1e-12, atol=1e-6):
        raise ValueError("row and column totals must have the same sum")
    x = seed.astype(np.float64).copy()
    for _ in range(max_iter):
        rs = x.sum(axis=1)
        x *= np.divide(row_totals, rs, out=np.zeros_like(rs), where=rs > 0)[:, None]
        cs = x.sum(axis=0)
        x *= np.divide(col_totals, cs, out=np.zeros_like(cs), where=cs > 0)[None, :]
        row_err = np.abs(x.sum(axis=1) - row_totals)
        if np.all(row_err <= tol * np.maximum(row_totals, 1.0)):
            return x
    raise ValueError(f"IPF did not converge in {max_iter} iterations")


def controlled_round(x: FloatArray, row_totals: IntArray, col_totals: IntArray) -> IntArray:
    """Round a non-negative table to integers keeping integer row and column totals exactly.

    Every cell becomes its floor or its floor plus one. Which cells go up is a transportation
    problem: a flow from rows to columns through the cells with a fractional part, solved
    exactly with a maximum flow (integral by construction).
    """
    base = np.floor(x + 1e-9).astype(np.int64)
    base = np.minimum(base, np.ceil(x).astype(np.int64))
    need_r = row_totals - base.sum(axis=1)
    need_c = col_totals - base.sum(axis=0)
    if need_r.sum() != need_c.sum() or np.any(need_r < 0) or np.any(need_c < 0):
        raise ValueError("table and totals are inconsistent")
    total = int(need_r.sum())
    if total == 0:
        return base
    n_rows, n_cols = x.shape
    frac = (x - base) > 1e-9
    ri, ci = np.nonzero(frac)
    source, sink = 0, 1 + n_rows + n_cols
    tails = np.concatenate(
        [np.zeros(n_rows, dtype=np.int64), 1 + ri, 1 + n_rows + np.arange(n_cols)]
    )
    heads = np.concatenate([1 + np.arange(n_rows), 1 + n_rows + ci, np.full(n_cols, sink)])
    caps = np.concatenate([need_r, np.ones(ri.size, dtype=np.int64), need_c]).astype(np.int32)
    size = sink + 1
    graph = csr_matrix((caps, (tails, heads)), shape=(size, size))
    result = maximum_flow(graph, source, sink)
    if result.flow_value != total:
        raise ValueError("no integer rounding keeps both margins (inconsistent input)")
    flow = result.flow.tocsr()
    cell_flow = np.asarray(flow[1 + ri, 1 + n_rows + ci]).ravel()
    out = base.copy()
    out[ri, ci] += (cell_flow > 0).astype(np.int64)
    return out


@dataclass(frozen=True)
class FittedAuthority:
    """Whole-person counts for one local authority: ``counts[lsoa, age, sex]``.

    ``sex`` index 0 = female, 1 = male; ``age`` 0..90 where 90 means 90 and over.
    """

    lad_code: str
    lsoa_codes: tuple[str, ...]
    counts: IntArray


def scale_census(census: IntArray, scale: float) -> IntArray:
    """Scale an authority's age x sex census table, keeping whole people.

    At scale 1 the table is returned unchanged; otherwise the cells are scaled and rounded by
    largest remainder to ``round(scale * total)``.
    """
    if scale == 1.0:
        return census.copy()
    flat = census.ravel().astype(np.float64)
    total = round(scale * float(flat.sum()))
    return largest_remainder(flat, total).reshape(census.shape)


def fit_authority(
    lad_code: str,
    seed: pd.DataFrame,
    census: IntArray,
    scale: float = 1.0,
) -> FittedAuthority:
    """Fit one authority. ``seed`` is LSOA x age (0..90) from the mid-2020 estimates;
    ``census`` is age (0..90) x sex (female, male) from Census 2021."""
    target = scale_census(census, scale)
    col_totals = target.sum(axis=1)  # persons by age
    total = int(col_totals.sum())
    seed_values = seed.to_numpy(dtype=np.float64)
    if seed_values.sum() <= 0:
        raise ReferenceDataError(f"{lad_code}: no mid-2020 population to seed the fit")
    row_sizes = seed_values.sum(axis=1)
    row_totals = largest_remainder(row_sizes, total)
    empty_age = (seed_values.sum(axis=0) == 0) & (col_totals > 0)
    if np.any(empty_age):
        # An age with census residents but no seed anywhere: spread it by LSOA size.
        seed_values[:, empty_age] = row_sizes[:, None] / max(row_sizes.sum(), 1.0)
    fitted = ipf_2d(seed_values, row_totals.astype(np.float64), col_totals.astype(np.float64))
    persons = controlled_round(fitted, row_totals, col_totals)
    counts = np.zeros((*persons.shape, 2), dtype=np.int64)
    for age in range(persons.shape[1]):
        column = persons[:, age]
        males = exact_share(column, int(target[age, 1]), int(col_totals[age]))
        counts[:, age, 1] = males
        counts[:, age, 0] = column - males
    return FittedAuthority(
        lad_code=lad_code, lsoa_codes=tuple(str(c) for c in seed.index), counts=counts
    )
