"""A year's NHS activity: counts by service, bed days and delayed discharges.

Each service's count is Poisson with mean = the card's rate for the age band x the
deprivation ratio x the person's use (conditions and latent health, mean one within the age
band) x the share of the year lived x a yearly Gamma shock that is the person's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carepool.population.generator.health import Registers
from carepool.population.generator.individual_risk import (
    FloatArray,
    IntArray,
    mean_one_lognormal,
    normalise_within,
)
from carepool.population.generator.year import Year
from carepool.population.parameters import (
    CONDITION_USE_WEIGHTS,
    ELECTIVE_DAY_CASE_SHARE,
    ELECTIVE_INPATIENT_LOS,
    EMERGENCY_LOS,
    SERVICE_LATENT_SD,
    YEAR_GAMMA_SHAPE,
)


@dataclass(frozen=True)
class Activity:
    """A year's NHS activity, one entry per person."""

    counts: dict[str, IntArray]  # service -> contacts, attendances, admissions...
    emergency_bed_days: IntArray
    elective_bed_days: IntArray
    delayed_discharge_days: IntArray


def nhs_activity(year: Year, registers: Registers, exposure: FloatArray) -> Activity:
    """Draw each service's count (streams ``shock`` and ``activity/<service>``), then stays."""
    params, sband = year.params, year.sband
    year_shock = year.rng("shock").gamma(YEAR_GAMMA_SHAPE, 1.0 / YEAR_GAMMA_SHAPE, year.n)
    service_latent = mean_one_lognormal(year.z, SERVICE_LATENT_SD)
    counts: dict[str, IntArray] = {}
    for service, weights in CONDITION_USE_WEIGHTS.items():
        use = np.ones(year.n)
        for cond, w in weights.items():
            use += w * registers.has(cond)
        use = normalise_within(use * service_latent, sband)
        lam = (
            params.service_rate[service][sband]
            * params.service_rr[service][year.q]
            * use
            * exposure
            * year_shock
        )
        counts[service] = year.rng(f"activity/{service}").poisson(lam).astype(np.int64)
    return _stays(year, counts, exposure)


def _stays(year: Year, counts: dict[str, IntArray], exposure: FloatArray) -> Activity:
    """Bed days of the year's admissions, and the days older patients stayed once fit to leave
    (stream ``stays``), scaled to the published delayed-discharge rate."""
    stay_rng = year.rng("stays")
    sband = year.sband
    emergency_bed_days = stay_rng.poisson(counts["emergency_admissions"] * EMERGENCY_LOS[sband])
    inpatients = stay_rng.binomial(counts["elective_admissions"], 1.0 - ELECTIVE_DAY_CASE_SHARE)
    elective_bed_days = stay_rng.poisson(inpatients * ELECTIVE_INPATIENT_LOS)
    older_days = np.where(year.age >= 65, emergency_bed_days, 0)
    target_delayed = year.params.delayed_discharge_per_person * float(exposure.sum())
    p_delay = min(1.0, target_delayed / max(float(older_days.sum()), 1.0))
    delayed = stay_rng.binomial(older_days, p_delay)
    return Activity(
        counts=counts,
        emergency_bed_days=emergency_bed_days,
        elective_bed_days=elective_bed_days,
        delayed_discharge_days=delayed,
    )
