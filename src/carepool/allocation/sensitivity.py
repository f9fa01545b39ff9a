"""Sensitivity: how each place's target share moves when one weight of the formula moves.

Each parameter is changed by ±10% (by default) with everything else held: a component's share
of the pool (the other shares scaled so that they still sum to 1), each additional-need
coefficient (estimated ones held at their fitted value), and each component's
health-inequalities weight (capped at 1). The result is a tornado table: for every place and
parameter, the target share and target pounds at the low and high setting, and the swing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.allocation.formula import Component, Formula
from carepool.allocation.inputs import NeedData
from carepool.allocation.need import (
    NeedModel,
    component_stages,
    fit_need_model,
    inequalities_index,
    market_forces,
    standardised,
)
from carepool.allocation.shares import places_of
from carepool.errors import AllocationError

Array = npt.NDArray[np.float64]
DEFAULT_CHANGE: Final = 0.10
COLUMNS: Final = (
    "place",
    "name",
    "parameter",
    "description",
    "base_value",
    "target_share",
    "low_share",
    "high_share",
    "low_change",
    "high_change",
    "swing",
)


@dataclass(frozen=True)
class _Parameter:
    key: str
    description: str
    value: float
    component: str
    kind: str  # "share", "need" or "inequalities"
    variable: str = ""


def _parameters(formula: Formula, model: NeedModel) -> list[_Parameter]:
    params: list[_Parameter] = []
    if len(formula.components) > 1:
        params += [
            _Parameter(f"share:{c.id}", f"{c.name}: share of the pool", c.share, c.id, "share")
            for c in formula.components
        ]
    for c in formula.components:
        for variable, beta in model.coefficients[c.id].items():
            params.append(
                _Parameter(
                    f"need:{c.id}:{variable}",
                    f"{c.name}: weight of {variable}",
                    beta,
                    c.id,
                    "need",
                    variable,
                )
            )
    params += [
        _Parameter(
            f"inequalities:{c.id}",
            f"{c.name}: health-inequalities weight",
            c.inequalities_weight,
            c.id,
            "inequalities",
        )
        for c in formula.components
        if c.inequalities_weight > 0
    ]
    return params


def sensitivity(
    formula: Formula,
    data: NeedData,
    *,
    total: int,
    level: str = "lad",
    change: float = DEFAULT_CHANGE,
    model: NeedModel | None = None,
) -> pd.DataFrame:
    """The tornado table (:data:`COLUMNS`) for every place of ``level``.

    Changes are in target pounds of the ``total`` pool (share change times the total), so a
    scrutiny committee reads them as money; shares are fractions of the pool.
    """
    if not 0 < change < 1:
        raise AllocationError(f"the change must be between 0 and 1 (e.g. 0.1), got {change:g}")
    model = model or fit_need_model(formula, data)
    places = places_of(data, level)
    names = sorted({n for c in model.coefficients.values() for n in c})
    z = standardised(data, names)
    uses_hi = any(c.inequalities_weight > 0 for c in formula.components)
    hi = inequalities_index(formula, data) if uses_hi else np.ones(data.lsoa_codes.size)
    mff = market_forces(formula, data)

    def component_share(c: Component, betas: dict[str, float], h: float | None = None) -> Array:
        stages = component_stages(c, data, model.curves[c.id], betas, z, hi, mff, share_weight=h)
        summed = places.sum(stages["market_forces"])
        out: Array = summed / summed.sum()
        return out

    base = {c.id: component_share(c, model.coefficients[c.id]) for c in formula.components}

    def overall(shares: dict[str, float], by_component: dict[str, Array]) -> Array:
        result = np.zeros(places.codes.size)
        for c in formula.components:
            result += shares[c.id] * by_component[c.id]
        return result

    pool = {c.id: c.share for c in formula.components}
    base_share = overall(pool, base)
    frames = []
    for p in _parameters(formula, model):
        moved = []
        for factor in (1 - change, 1 + change):
            shares, by_component = dict(pool), dict(base)
            component = formula.component(p.component)
            if p.kind == "share":
                new = p.value * factor
                rest = 1 - p.value
                shares = {
                    k: (new if k == p.component else v * (1 - new) / rest) for k, v in pool.items()
                }
            elif p.kind == "need":
                betas = dict(model.coefficients[p.component])
                betas[p.variable] = p.value * factor
                by_component[p.component] = component_share(component, betas)
            else:
                h = min(1.0, p.value * factor)
                by_component[p.component] = component_share(
                    component, model.coefficients[p.component], h
                )
            moved.append(overall(shares, by_component))
        low, high = moved
        frames.append(
            pd.DataFrame(
                {
                    "place": places.codes,
                    "name": places.names,
                    "parameter": p.key,
                    "description": p.description,
                    "base_value": p.value,
                    "target_share": base_share,
                    "low_share": low,
                    "high_share": high,
                    "low_change": np.round((low - base_share) * total).astype(np.int64),
                    "high_change": np.round((high - base_share) * total).astype(np.int64),
                }
            )
        )
    if not frames:
        raise AllocationError("the formula has no weights to vary")
    table = pd.concat(frames, ignore_index=True)
    table["swing"] = (table["high_change"] - table["low_change"]).abs()
    table = table.sort_values(["place", "swing", "parameter"], ascending=[True, False, True])
    return table.reset_index(drop=True)[list(COLUMNS)]
