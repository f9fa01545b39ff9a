"""The model's need index for each ICB beside NHS England's published one.

NHS England allocates to ICBs by weighted populations from national person-level models the
model never saw; its core services overall need index (2025/26) is vendored for all 42 ICBs
(``icb_need_indices_england``). An allocation by ICB (``carepool allocate --level icb``) is
set beside it, on the same footing: the model's need index is 1 for the average resident of
the region it models, so NHS England's (relative to England) is divided by the modelled ICBs'
average, weighted by registered patients as NHS England's indices are. NHS England's index
also carries costs the model has no part in (the market-forces factor, emergency ambulance
costs), so the two are not expected to agree to the third decimal; how far they agree is
reported (mean absolute difference and correlation), not judged here.

By council or neighbourhood, NHS England publishes practice-level weighted populations, not an
index for those places; carepool vendors their sums for Greater Manchester's localities only
(:mod:`carepool.model.need_index`), so elsewhere there is nothing published to compare with.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from carepool.reference import read_reference

INDEX_YEAR = "2025/26"
COMPONENT = "core_services_overall"
DATASET = "icb_need_indices_england"
SOURCE = (
    f"NHS England ICB allocations {INDEX_YEAR}, core services overall need index "
    f"(vendored {DATASET}), over the modelled ICBs' average"
)


@dataclass(frozen=True)
class Comparison:
    """The places of an allocation by ICB with NHS England's index beside the model's."""

    #: ``place, name, need_index, nhse_need_index, difference``, one row per ICB.
    places: pd.DataFrame
    #: Mean absolute difference between the two indices.
    mean_absolute_difference: float
    #: Pearson correlation of the two indices (None for fewer than three ICBs).
    correlation: float | None

    def as_dict(self) -> dict[str, object]:
        return {
            "source": SOURCE,
            "icbs": len(self.places),
            "mean_absolute_difference": round(self.mean_absolute_difference, 4),
            "correlation": None if self.correlation is None else round(self.correlation, 4),
        }


def published_icb_index(codes: list[str]) -> dict[str, float]:
    """NHS England's core need index of each ICB of ``codes`` it publishes, relative to their
    average weighted by registered patients."""
    frame = read_reference(DATASET).to_pandas()
    rows = frame[
        (frame["allocation_year"] == INDEX_YEAR)
        & (frame["component"] == COMPONENT)
        & frame["icb24_code"].isin(codes)
    ]
    if rows.empty:
        return {}
    index = rows["need_index_vs_england"].astype(float)
    patients = rows["registered_population"].astype(float)
    average = float((index * patients).sum() / patients.sum())
    return {str(c): float(v) / average for c, v in zip(rows["icb24_code"], index, strict=True)}


def compare_with_nhs_england(places: pd.DataFrame) -> Comparison | None:
    """NHS England's index beside the model's for an allocation's ``places`` by ICB; None
    unless NHS England publishes every one of them and there are two or more (relative to
    itself, one ICB's index is 1 on both sides)."""
    codes = [str(code) for code in places["place"]]
    published = published_icb_index(codes)
    if len(codes) < 2 or set(codes) - set(published):
        return None
    table = places[["place", "name", "need_index"]].copy()
    table["nhse_need_index"] = [round(published[code], 4) for code in codes]
    table["difference"] = table["need_index"] - table["nhse_need_index"]
    model = table["need_index"].to_numpy(dtype=float)
    nhse = table["nhse_need_index"].to_numpy(dtype=float)
    correlation = float(np.corrcoef(model, nhse)[0, 1]) if len(table) >= 3 else None
    mad = float(np.abs(model - nhse).mean())
    return Comparison(table.reset_index(drop=True), mad, correlation)
