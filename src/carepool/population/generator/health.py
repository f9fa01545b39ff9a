"""A year's health: who is on each condition's register, and who dies, when and of what.

Deaths follow the ONS life table times the deprivation ratio and the authority's calibrated
multiplier; a person's conditions and latent health only redistribute them within each cell
of area, sex, five-year age band and quintile, whose expected deaths stay those of the
calibrated table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.population.generator.individual_risk import (
    BoolArray,
    FloatArray,
    IntArray,
    mean_one_lognormal,
)
from carepool.population.generator.year import Year
from carepool.population.mortality_gradient import hazard
from carepool.population.parameters import (
    CARE_HOME_MORTALITY,
    CHRONIC,
    CONDITION_LATENT_SD,
    CONDITION_MORTALITY,
    DEATH_CAUSE_BASE,
    DEATH_CAUSE_CONDITION,
    MAX_LIFE_TABLE_AGE,
    SERVICE_LATENT_SD,
)
from carepool.warehouse import CONDITIONS, DEATH_CAUSES
from carepool.years import first_day

#: Years of age in each cell within which individual risk redistributes deaths.
_CELL_YEARS = 5
_CELL_BANDS = MAX_LIFE_TABLE_AGE // _CELL_YEARS + 1


@dataclass(frozen=True)
class Registers:
    """Who is on each condition's register at the start of the year."""

    present: BoolArray  # [person, condition], conditions in CONDITIONS order

    def has(self, condition: str) -> BoolArray:
        return self.present[:, CONDITIONS.index(condition)]


def conditions(year: Year) -> Registers:
    """Each register at the start of the year: the person's fixed uniform draw against the
    prevalence of their sex, age band and quintile, times their authority's calibrated
    multiplier, raised by latent health; chronic conditions, once present, stay."""
    params = year.params
    previous = year.cohort.conditions[year.rows]
    present = np.zeros((year.n, len(CONDITIONS)), dtype=bool)
    cond_mult = mean_one_lognormal(year.z, CONDITION_LATENT_SD)
    local = year.area.prevalence[year.lad]
    for j, name in enumerate(CONDITIONS):
        p = (
            params.prevalence[name][year.sex, year.cband]
            * params.condition_rr[name][year.q]
            * local[:, j]
            * cond_mult
        )
        on_register = year.cohort.condition_u[year.rows, j] < np.minimum(p, 0.98)
        if name in CHRONIC:
            on_register |= previous[:, j]
        present[:, j] = on_register
    return Registers(present)


@dataclass(frozen=True)
class Deaths:
    """Who died in the year, when, of what, and each person's share of the year lived."""

    died: BoolArray
    days_alive: npt.NDArray[np.int16]
    exposure: FloatArray  # days alive / days in the year
    death_date: npt.NDArray[np.datetime64]  # NaT for the living
    death_cause: npt.NDArray[np.int8]  # codes into DEATH_CAUSES, -1 for the living


def deaths(year: Year, registers: Registers, care_home: BoolArray) -> Deaths:
    """Draw the year's deaths (stream ``deaths``): whether, on which day, and the cause;
    ``care_home``: who lives in one this year."""
    death_rng = year.rng("deaths")
    q_year = _death_risk(year, registers, care_home)
    died = death_rng.random(year.n) < q_year
    death_day = np.floor(death_rng.random(year.n) * year.days).astype(np.int64)
    days_alive = np.where(died, death_day + 1, year.days).astype(np.int16)
    start = np.datetime64(first_day(year.name), "D")
    death_date = np.where(died, start + death_day.astype("timedelta64[D]"), np.datetime64("NaT"))
    return Deaths(
        died=died,
        days_alive=days_alive,
        exposure=days_alive / year.days,
        death_date=death_date,
        death_cause=_death_causes(year, registers, died, death_rng),
    )


def _death_risk(year: Year, registers: Registers, care_home: BoolArray) -> FloatArray:
    """Each person's chance of dying in the year.

    Individual risk only redistributes deaths: within each (area, sex, five-year age band,
    quintile) cell the expected number of deaths is exactly that of the calibrated life
    table. Cells of single years of age would be too small in a model at a fraction of the
    population: a cell of one or two people leaves no room to redistribute, so the sick (care
    home residents above all) would die no more often than the well, and care homes would
    turn over too slowly.
    """
    params, area, sex, age, q, lad = year.params, year.area, year.sex, year.age, year.q, year.lad
    health = mean_one_lognormal(year.z, SERVICE_LATENT_SD)
    for name, mult in CONDITION_MORTALITY.items():
        health = health * np.where(registers.has(name), mult, 1.0)
    health = health * np.where(care_home, CARE_HOME_MORTALITY, 1.0)
    qx = params.qx[sex, np.minimum(age, MAX_LIFE_TABLE_AGE)]
    k_cell = (
        params.mortality_rr[sex, q, np.minimum(age, MAX_LIFE_TABLE_AGE)] * area.mortality[lad, sex]
    )
    q_cell = hazard(qx, k_cell)
    q_raw = hazard(qx, k_cell * health)
    band = np.minimum(age, MAX_LIFE_TABLE_AGE) // _CELL_YEARS
    cell = ((lad * 2 + sex) * _CELL_BANDS + band) * 5 + q
    n_cells = int(area.mortality.shape[0]) * 2 * _CELL_BANDS * 5
    wanted = np.bincount(cell, weights=q_cell, minlength=n_cells)
    drawn = np.bincount(cell, weights=q_raw, minlength=n_cells)
    scale = np.divide(wanted, drawn, out=np.ones(n_cells), where=drawn > 0)
    return np.asarray(np.minimum(q_raw * scale[cell], 0.999), dtype=np.float64)


def _death_causes(
    year: Year, registers: Registers, died: BoolArray, death_rng: np.random.Generator
) -> npt.NDArray[np.int8]:
    """The broad cause of each death: age-band weights, raised for the matching register."""
    dead: IntArray = np.nonzero(died)[0]
    sband = year.sband
    cause_weights = np.stack([DEATH_CAUSE_BASE[c][sband[dead]] for c in DEATH_CAUSES], axis=1)
    for j, cause in enumerate(DEATH_CAUSES):
        if cause in DEATH_CAUSE_CONDITION:
            cond, mult = DEATH_CAUSE_CONDITION[cause]
            cause_weights[:, j] *= np.where(registers.has(cond)[dead], mult, 1.0)
    cause_cdf = np.cumsum(cause_weights, axis=1)
    cause_u = death_rng.random(dead.size) * cause_cdf[:, -1]
    death_cause = np.full(year.n, -1, dtype=np.int8)  # codes into DEATH_CAUSES
    death_cause[dead] = (cause_u[:, None] > cause_cdf).sum(axis=1)
    return death_cause
