"""The model's need index for each ICB beside NHS England's published one.

NHS England allocates to ICBs by weighted populations from national person-level models the
model never saw; its core services overall need index (2025/26) is vendored for all 42 ICBs
(``icb_need_indices_england``). An allocation by ICB (``carepool allocate --level icb``) is
set beside it for every ICB the model holds whole (NHS England's index is of the whole ICB;
of an ICB crossing the region the model holds only a part), on one footing: the model's index
over the compared ICBs' average resident, NHS England's (relative to England) over their
average registered patient, as NHS England's indices are weighted. NHS England's index
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

from carepool.geography import lsoa_lookup
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
    return over_patient_weighted_average(rows, "icb24_code")


def over_patient_weighted_average(rows: pd.DataFrame, code: str) -> dict[str, float]:
    """Each row's published need index (``need_index_vs_england``, keyed by column ``code``)
    over the rows' average weighted by registered patients (``registered_population``), as
    NHS England weights its indices: so that it is relative to the places compared, as the
    model's index is relative to the places it models. Empty for no rows."""
    if rows.empty:
        return {}
    index = rows["need_index_vs_england"].astype(float)
    patients = rows["registered_population"].astype(float)
    average = float((index * patients).sum() / patients.sum())
    return {str(c): float(v) / average for c, v in zip(rows[code], index, strict=True)}


def whole_icbs(lad_codes: list[str]) -> set[str]:
    """The ICBs every LSOA of which lies in the councils ``lad_codes`` (a model of those
    councils holds all of each; of an ICB that crosses the region it holds only a part)."""
    lookup = lsoa_lookup()
    modelled = lookup["lad24_code"].isin(lad_codes)
    inside = modelled.groupby(lookup["icb24_code"]).all()
    return {str(code) for code, whole in inside.items() if whole}


def compare_with_nhs_england(places: pd.DataFrame, lad_codes: list[str]) -> Comparison | None:
    """NHS England's index beside the model's for an allocation's ``places`` by ICB, of a
    model of the councils ``lad_codes``: for the ICBs the model holds whole (NHS England's
    index is of the whole ICB), both put relative to those ICBs' average. None unless two or
    more such ICBs are published (relative to itself, one ICB's index is 1 on both sides)."""
    whole = places[places["place"].astype(str).isin(whole_icbs(lad_codes))]
    codes = [str(code) for code in whole["place"]]
    published = published_icb_index(codes)
    codes = [code for code in codes if code in published]
    if len(codes) < 2:
        return None
    table = whole[whole["place"].astype(str).isin(codes)][
        ["place", "name", "population", "need_index"]
    ].copy()
    # the model's index over the compared ICBs' average resident, as NHS England's is over
    # their average patient (a no-op when the model is these ICBs and nothing else)
    people = table["population"].astype(float)
    table["need_index"] = table["need_index"] / float(
        (table["need_index"] * people).sum() / people.sum()
    )
    table = table.drop(columns="population")
    table["nhse_need_index"] = [round(published[str(code)], 4) for code in table["place"]]
    table["difference"] = table["need_index"] - table["nhse_need_index"]
    model = table["need_index"].to_numpy(dtype=float)
    nhse = table["nhse_need_index"].to_numpy(dtype=float)
    correlation = float(np.corrcoef(model, nhse)[0, 1]) if len(table) >= 3 else None
    mad = float(np.abs(model - nhse).mean())
    return Comparison(table.reset_index(drop=True), mad, correlation)
