"""Target shares, pace of change and the explanation of every place's allocation.

A place's target share is the pool-share-weighted sum over components of its share of each
component's weighted population (:mod:`carepool.allocation.need`). Its allocation is the
target in whole pounds, or, given last year's baseline, the pace-of-change result
(:mod:`carepool.allocation.pace`). The explanation walks from an equal share per head to the
allocation, adding one factor at a time; every step is in whole pounds that sum to the pool,
so the changes add up exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.allocation.baseline import align_baseline
from carepool.allocation.formula import Formula
from carepool.allocation.inputs import NeedData
from carepool.allocation.need import (
    STAGES,
    NeedModel,
    all_stages,
    check_variables,
    fit_need_model,
)
from carepool.allocation.pace import PaceResult, converge, whole_pounds
from carepool.errors import AllocationError

Array = npt.NDArray[np.float64]

#: The explanation's steps: id, label, the need stage it reaches (None: pace of change).
STEPS: Final = (
    ("equal_per_head", "Equal share per head", "population"),
    ("age_sex", "Age and sex", "age_sex"),
    ("additional_need", "Additional need", "additional_need"),
    ("inequalities", "Health inequalities", "inequalities"),
    ("market_forces", "Market forces", "market_forces"),
    ("pace_of_change", "Pace of change", None),
)
PLACE_COLUMNS: Final = (
    "place",
    "name",
    "level",
    "population",
    "weighted_population",
    "need_index",
    "target_share",
    "target",
    "baseline",
    "baseline_distance_from_target",
    "allocation",
    "change",
    "growth",
    "distance_from_target",
    "protected",
    "per_head",
)
_PARTITION_TOLERANCE = 1e-6


@dataclass(frozen=True)
class Places:
    """The places of one level and how LSOAs' values add up into them."""

    level: str
    codes: npt.NDArray[np.str_]
    names: npt.NDArray[np.str_]
    place_index: npt.NDArray[np.int64]
    lsoa_index: npt.NDArray[np.int64]
    weight: Array

    def sum(self, values: Array) -> Array:
        out: Array = np.bincount(
            self.place_index,
            weights=values[self.lsoa_index] * self.weight,
            minlength=self.codes.size,
        ).astype(np.float64)
        return out


def places_of(data: NeedData, level: str) -> Places:
    rows = data.memberships[data.memberships["level"] == level]
    if rows.empty:
        raise AllocationError(f"unknown level {level!r}; expected one of {', '.join(data.levels)}")
    names = rows.drop_duplicates("place_code").set_index("place_code")["place_name"]
    codes = np.array(sorted(names.index.astype(str)), dtype=str)
    lsoa_index = np.searchsorted(data.lsoa_codes, rows["lsoa21_code"].to_numpy(dtype=str))
    lsoa_index = np.minimum(lsoa_index, data.lsoa_codes.size - 1)
    known = data.lsoa_codes[lsoa_index] == rows["lsoa21_code"].to_numpy(dtype=str)
    weight = rows["weight"].to_numpy(dtype=np.float64)
    cover = np.bincount(lsoa_index[known], weights=weight[known], minlength=data.lsoa_codes.size)
    uneven = np.flatnonzero((np.abs(cover - 1) > _PARTITION_TOLERANCE) & (data.people() > 0))
    if uneven.size:
        example = data.lsoa_codes[uneven[0]]
        raise AllocationError(
            f"level {level!r} does not share out every neighbourhood exactly once "
            f"({uneven.size} LSOA(s), e.g. {example} with weight {cover[uneven[0]]:g}); "
            "allocations must add up to the pool"
        )
    return Places(
        level=level,
        codes=codes,
        names=np.array([str(names[c]) for c in codes], dtype=str),
        place_index=np.searchsorted(codes, rows["place_code"].to_numpy(dtype=str))[known],
        lsoa_index=lsoa_index[known],
        weight=weight[known],
    )


@dataclass(frozen=True)
class Allocation:
    """An allocation and everything that explains it; every table is sorted by place code."""

    places: pd.DataFrame
    components: pd.DataFrame
    steps: pd.DataFrame
    model: NeedModel
    metadata: dict[str, Any] = field(default_factory=dict)

    def explain(self, place: str) -> dict[str, Any]:
        """One place's allocation step by step, with its components, as plain data."""
        row = self.places[self.places["place"] == place]
        if row.empty:
            raise AllocationError(
                f"no place {place!r} at level {self.metadata['level']!r}; "
                f"e.g. {', '.join(self.places['place'].head(3))}"
            )
        record = _plain(row.iloc[0].to_dict())
        steps = self.steps[self.steps["place"] == place]
        comps = self.components[self.components["place"] == place]
        return {
            "place": place,
            "name": record["name"],
            "level": record["level"],
            "summary": record,
            "steps": [_plain(r) for r in steps.drop(columns=["place", "name"]).to_dict("records")],
            "components": [
                _plain(r) for r in comps.drop(columns=["place", "name"]).to_dict("records")
            ],
            "metadata": self.metadata,
        }


def _plain(record: dict[Any, Any]) -> dict[str, Any]:
    """JSON-ready values: numpy scalars unwrapped, NaN as None."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and np.isnan(value):
            value = None
        out[str(key)] = value
    return out


def target_shares(
    formula: Formula, stages: dict[str, dict[str, Array]], places: Places, stage: str
) -> tuple[Array, dict[str, Array]]:
    """Overall and per-component shares of each place at ``stage``."""
    per_component: dict[str, Array] = {}
    overall = np.zeros(places.codes.size)
    for component in formula.components:
        summed = places.sum(stages[component.id][stage])
        per_component[component.id] = summed / summed.sum()
        overall += component.share * per_component[component.id]
    return overall, per_component


def allocate(
    formula: Formula,
    data: NeedData,
    *,
    total: int,
    year: str,
    level: str = "lad",
    baseline: dict[str, int] | None = None,
    baseline_source: str = "baseline",
    model: NeedModel | None = None,
) -> Allocation:
    """Allocate ``total`` whole pounds for ``year`` to the places of ``level``.

    ``baseline`` maps every place to last year's allocation in pence (see
    :func:`carepool.allocation.read_baseline`); without one the allocation is the target.
    ``model`` reuses a fitted need model (for example a region's, applied to England).
    """
    if isinstance(total, bool) or not isinstance(total, int | np.integer) or total <= 0:
        raise AllocationError(f"the total must be a positive whole number of pounds, got {total!r}")
    total = int(total)
    check_variables(formula, data)
    model = model or fit_need_model(formula, data)
    places = places_of(data, level)
    stages = all_stages(formula, data, model)
    population = places.sum(data.people())

    levels: dict[str, Array] = {}
    for step, _, stage in STEPS:
        if stage is not None:
            levels[step], _ = target_shares(formula, stages, places, stage)
    share, by_component = target_shares(formula, stages, places, "market_forces")
    target = whole_pounds(share, total)
    weighted = share * float(population.sum())

    pace: PaceResult | None = None
    base: npt.NDArray[np.int64] | None = None
    if baseline is not None:
        base = align_baseline(baseline, list(places.codes), baseline_source)
        pace = converge(share * total, base, total, formula.pace)
        allocation = pace.allocation
    else:
        allocation = target

    frame = _place_table(places, population, weighted, share, target, base, allocation, pace)
    steps = _steps(places, population, levels, target, allocation, total, pace is not None)
    components = _components(formula, places, by_component, total)
    metadata = {
        "formula": {
            "id": formula.id,
            "version": formula.version,
            "title": formula.title,
            "digest": formula.digest,
            "file": formula.path,
        },
        "year": year,
        "total": total,
        "level": level,
        "places": int(places.codes.size),
        "population": data.description,
        "population_basis": data.population_basis,
        "population_year": data.population_year,
        "baseline": baseline_source if baseline is not None else None,
        "pace_of_change": None
        if baseline is None
        else {
            "min_growth": formula.pace.min_growth,
            "max_below_target": formula.pace.max_below_target,
            "convergence": formula.pace.convergence,
        },
        "coefficients": model.coefficients,
        "estimated": {k: list(v) for k, v in model.estimated.items() if v},
    }
    return Allocation(frame, components, steps, model, metadata)


def _ratio(numerator: npt.NDArray[Any], denominator: Array) -> Array:
    """numerator / denominator, NaN where the denominator is zero."""
    out: Array = np.full(denominator.size, np.nan)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _place_table(
    places: Places,
    population: Array,
    weighted: Array,
    share: Array,
    target: npt.NDArray[np.int64],
    base: npt.NDArray[np.int64] | None,
    allocation: npt.NDArray[np.int64],
    pace: PaceResult | None,
) -> pd.DataFrame:
    total = int(allocation.sum())
    per_head = np.divide(
        allocation, population, out=np.full(population.size, np.nan), where=population > 0
    )
    frame = pd.DataFrame(
        {
            "place": places.codes,
            "name": places.names,
            "level": places.level,
            "population": np.round(population).astype(np.int64),
            "weighted_population": np.round(weighted, 1),
            "need_index": np.round(
                np.divide(weighted, population, out=np.ones_like(weighted), where=population > 0), 4
            ),
            "target_share": share,
            "target": target,
            "allocation": allocation,
            "distance_from_target": np.round((allocation - target) / np.maximum(target, 1), 6),
            "per_head": np.round(per_head, 2),
        }
    )
    if base is not None and pace is not None:
        pounds = base / 100.0
        grown = pounds * (total / pounds.sum())
        frame["baseline"] = pounds
        frame["baseline_distance_from_target"] = np.round(
            (grown - target) / np.maximum(target, 1), 6
        )
        frame["change"] = np.round(allocation - pounds, 2)
        frame["growth"] = np.round(
            np.divide(allocation, pounds, out=np.full(pounds.size, np.nan), where=pounds > 0) - 1, 6
        )
        frame["protected"] = pace.protected
    else:
        for column in (
            "baseline",
            "baseline_distance_from_target",
            "change",
            "growth",
            "protected",
        ):
            frame[column] = None
    return frame[list(PLACE_COLUMNS)]


def _steps(
    places: Places,
    population: Array,
    levels: dict[str, Array],
    target: npt.NDArray[np.int64],
    allocation: npt.NDArray[np.int64],
    total: int,
    with_pace: bool,
) -> pd.DataFrame:
    amounts: list[npt.NDArray[np.int64]] = []
    for step, _, stage in STEPS:
        if stage is None:
            amounts.append(allocation)
        elif stage == "market_forces":
            amounts.append(target)
        else:
            amounts.append(whole_pounds(levels[step], total))
    rows = []
    for i, code in enumerate(places.codes):
        previous = 0
        for (step, label, _), amount in zip(STEPS, amounts, strict=True):
            if step == "pace_of_change" and not with_pace:
                continue
            value = int(amount[i])
            rows.append(
                {
                    "place": code,
                    "name": places.names[i],
                    "step": step,
                    "label": label,
                    "change": value - previous,
                    "amount": value,
                    "per_head": round(value / population[i], 2) if population[i] > 0 else None,
                }
            )
            previous = value
    return pd.DataFrame(rows)


def _components(
    formula: Formula, places: Places, by_component: dict[str, Array], total: int
) -> pd.DataFrame:
    pots = whole_pounds(np.array([c.share for c in formula.components]), total)
    frames = []
    for component, pot in zip(formula.components, pots, strict=True):
        shares = by_component[component.id]
        frames.append(
            pd.DataFrame(
                {
                    "place": places.codes,
                    "name": places.names,
                    "component": component.id,
                    "component_name": component.name,
                    "share_of_pool": component.share,
                    "target_share": shares,
                    "target": whole_pounds(shares, int(pot)),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    return frame.sort_values("place", kind="stable").reset_index(drop=True)


__all__ = ["STAGES", "STEPS", "Allocation", "Places", "allocate", "places_of", "target_shares"]
