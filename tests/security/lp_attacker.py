"""An attacker who sets every published level against every other by linear programming.

Written on scipy's ``linprog`` apart from the audit's own model
(:mod:`carepool.indicators.differencing`), so that a test of the audit does not share its
mistakes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
import scipy.sparse as sp
from scipy.optimize import linprog


def _geometry(
    members: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.Index, sp.csr_matrix, npt.NDArray[np.bool_]]:
    """Every place (``level, place_code``), the LSOAs, each place's weights over them, and
    whether a place is made of whole LSOAs."""
    places = members.drop_duplicates(["level", "place_code"])[["level", "place_code"]]
    places = places.reset_index(drop=True)
    slot = pd.MultiIndex.from_frame(places)
    lsoas = pd.Index(members["lsoa21_code"].unique())
    rows = slot.get_indexer(pd.MultiIndex.from_frame(members[["level", "place_code"]]))
    weights = sp.csr_matrix(
        (members["weight"], (rows, lsoas.get_indexer(members["lsoa21_code"]))),
        shape=(len(places), len(lsoas)),
    )
    whole = np.ones(len(places), dtype=bool)
    whole[rows[~np.isclose(members["weight"], 1.0)]] = False
    return places, lsoas, weights, whole


def narrowed(
    shown: pd.DataFrame, truth: pd.DataFrame, members: pd.DataFrame
) -> list[tuple[str, str, float, float]]:
    """The hidden counts of 1-7 (of places made of whole LSOAs) that linear programming over
    every published place bounds to a range narrower than 6, with their bounds.

    ``shown`` is one published table (``level, place_code, numerator, suppressed``: the
    numerator rounded to 5 where shown); ``truth`` its exact numerators, used only to say
    which hidden cells are small. The attacker knows a shown count r is within 2 of the truth
    and not 1-7 (so a shown 0 is 0, a shown 10 is 8-12), and a hidden one is at least 0.
    """
    places, lsoas, weights, whole = _geometry(members)
    table = places.merge(shown, on=["level", "place_code"], how="left")
    table = table.merge(truth, on=["level", "place_code"], how="left", suffixes=("", "_true"))
    present = table["suppressed"].notna().to_numpy()
    hidden = table["suppressed"].fillna(True).to_numpy(dtype=bool)
    published = table["numerator"].to_numpy(dtype=float, na_value=np.nan)
    # within 2 of a shown count of whole numbers of whole LSOAs; 2.5 of anything else
    at_lsoas = truth.merge(places[places["level"] == "lsoa"], on=["level", "place_code"])
    counts = at_lsoas["numerator"].dropna().to_numpy(dtype=float)
    slack = np.where(whole & bool(np.all(counts == np.round(counts))), 2.0, 2.5)
    low = np.where(published == 0, 0.0, np.maximum(published - slack, 8.0))
    high = np.where(published == 0, 0.0, published + slack)
    constrained = present & ~hidden
    a = weights[constrained]
    inequalities = sp.vstack([a, -a]).tocsr()
    limits = np.concatenate([high[constrained], -low[constrained]])
    # an LSOA with no row has nobody the indicator counts
    at_lsoa = (places["level"] == "lsoa").to_numpy()
    empty = lsoas.get_indexer(pd.Index(places.loc[at_lsoa & ~present, "place_code"]))
    bounds = [(0.0, 0.0) if i in set(empty) else (0.0, None) for i in range(len(lsoas))]
    true = table["numerator_true"].to_numpy(dtype=float, na_value=np.nan)
    sensitive = np.flatnonzero(present & hidden & whole & (true >= 1) & (true <= 7))

    def extreme(place: int, sign: float) -> float:
        result = linprog(
            sign * weights[place].toarray().ravel(),
            A_ub=inequalities,
            b_ub=limits,
            bounds=bounds,
            method="highs",
        )
        if result.status == 3:  # unbounded: no upper bound on the count
            return float(-sign * np.inf)
        assert result.status == 0, result.message
        return float(sign * result.fun)

    narrowed = []
    for place in sensitive.tolist():
        lower, upper = extreme(place, 1.0), extreme(place, -1.0)
        if upper - lower < 6 - 1e-6:
            narrowed.append(
                (str(table["level"][place]), str(table["place_code"][place]), lower, upper)
            )
    return narrowed


def narrowed_jointly(
    series: dict[str, tuple[pd.DataFrame, pd.DataFrame]],
    within: list[tuple[list[str], list[str]]],
    members: pd.DataFrame,
) -> list[tuple[str, str, str, float, float]]:
    """:func:`narrowed` over several counts at once, knowing how they relate in each LSOA.

    ``series`` maps a name to one count's published table (``level, place_code, count,
    suppressed``) and its exact counts (``level, place_code, count``). ``within`` holds what
    the definitions say: each ``(parts, wholes)`` means that in every LSOA the parts' counts
    sum to at most the wholes' (a numerator is at most its denominator; deaths from cancer and
    from circulatory disease are at most all deaths). Returns ``(series, level, place_code,
    low, high)`` for each hidden count of 1-7 bounded to a range narrower than 6.
    """
    places, lsoas, weights, whole = _geometry(members)
    at_lsoa = (places["level"] == "lsoa").to_numpy()
    names = list(series)
    n = len(lsoas)
    blocks_ub: list[sp.spmatrix] = []
    limits: list[np.ndarray] = []
    bounds: list[tuple[float, float | None]] = []
    cells: list[tuple[int, int, float]] = []
    for k, name in enumerate(names):
        shown, truth = series[name]
        table = places.merge(shown, on=["level", "place_code"], how="left")
        table = table.merge(truth, on=["level", "place_code"], how="left", suffixes=("", "_t"))
        present = table["suppressed"].notna().to_numpy()
        hidden = table["suppressed"].fillna(True).to_numpy(dtype=bool)
        published = table["count"].to_numpy(dtype=float, na_value=np.nan)
        lsoa_truth = table.loc[at_lsoa, "count_t"].dropna().to_numpy(dtype=float)
        slack = np.where(whole & bool(np.all(lsoa_truth == np.round(lsoa_truth))), 2.0, 2.5)
        low = np.where(published == 0, 0.0, np.maximum(published - slack, 8.0))
        high = np.where(published == 0, 0.0, published + slack)
        constrained = present & ~hidden
        a = sp.hstack(
            [
                sp.csr_matrix((int(constrained.sum()), k * n)),
                weights[constrained],
                sp.csr_matrix((int(constrained.sum()), (len(names) - k - 1) * n)),
            ]
        )
        blocks_ub += [a, -a]
        limits += [high[constrained], -low[constrained]]
        empty = set(
            lsoas.get_indexer(pd.Index(places.loc[at_lsoa & ~present, "place_code"])).tolist()
        )
        bounds += [(0.0, 0.0) if i in empty else (0.0, None) for i in range(n)]
        true = table["count_t"].to_numpy(dtype=float, na_value=np.nan)
        small = np.flatnonzero(present & hidden & whole & (true >= 1) & (true <= 7))
        cells += [(k, int(i), float(true[i])) for i in small]
    for parts, wholes in within:
        sign = np.zeros(len(names))
        for name in parts:
            sign[names.index(name)] += 1.0
        for name in wholes:
            sign[names.index(name)] -= 1.0
        blocks_ub.append(sp.hstack([s * sp.identity(n, format="csr") for s in sign]))
        limits.append(np.zeros(n))
    inequalities = sp.vstack(blocks_ub).tocsr()
    b_ub = np.concatenate(limits)

    def extreme(k: int, place: int, sign: float) -> float:
        cost = np.zeros(len(names) * n)
        cost[k * n : (k + 1) * n] = sign * weights[place].toarray().ravel()
        result = linprog(cost, A_ub=inequalities, b_ub=b_ub, bounds=bounds, method="highs")
        if result.status == 3:
            return float(-sign * np.inf)
        assert result.status == 0, result.message
        return float(sign * result.fun)

    found = []
    for k, place, count in cells:
        upper = extreme(k, place, -1.0)
        if upper >= count + 6 - 1e-6:
            continue  # the lower bound is at most the truth: not narrowed
        lower = extreme(k, place, 1.0)
        if upper - lower < 6 - 1e-6:
            level, code = places.iloc[place]
            found.append((names[k], str(level), str(code), lower, upper))
    return found


def narrowed_proportion(
    published: pd.DataFrame, counts: pd.DataFrame, members: pd.DataFrame
) -> list[tuple[str, str, str, float, float]]:
    """:func:`narrowed_jointly` for one proportion's published table: its numerator within
    its denominator, place by place (``counts`` the true ones)."""
    series = {
        column: (
            published[["level", "place_code", column, "suppressed"]].rename(
                columns={column: "count"}
            ),
            counts[["level", "place_code", column]].rename(columns={column: "count"}),
        )
        for column in ("numerator", "denominator")
    }
    return narrowed_jointly(series, [(["numerator"], ["denominator"])], members)
