"""What a scenario changes in a year's demand beyond the trends: care moved closer to home,
and the effects of a prevention portfolio. Both rise evenly from nothing in the base year to
their full size in the last projected year, and both are linear in demand, so neighbourhoods
still add up to boroughs."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from carepool.projection.demand import MEASURE_NAMES
from carepool.projection.engine import Change
from carepool.projection.scenarios import Scenario

FloatArray = npt.NDArray[np.float64]

_INDEX = {name: k for k, name in enumerate(MEASURE_NAMES)}


def demand_change(scenario: Scenario, horizon: int, effects: dict[str, float]) -> Change:
    """The scenario's change to year ``t``'s demand ``(..., measure)``."""
    shift = scenario.care_closer_to_home

    def change(t: int, demand: FloatArray) -> FloatArray:
        ramp = t / horizon
        if not shift.admissions_shifted and not effects:
            return demand
        out = demand.copy()
        if shift.admissions_shifted:
            share = shift.admissions_shifted * ramp
            avoided = demand[..., _INDEX["emergency_admissions"]] * share
            for name in ("emergency_admissions", "emergency_bed_days", "ae_attendances"):
                out[..., _INDEX[name]] *= 1.0 - share
            out[..., _INDEX["community_contacts"]] += (
                avoided * shift.community_contacts_per_admission
            )
            out[..., _INDEX["asc_home_care_hours"]] += avoided * shift.home_care_hours_per_admission
        for name, effect in effects.items():
            out[..., _INDEX[name]] *= 1.0 + effect * ramp
        return out

    return change
