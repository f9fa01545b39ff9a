"""Everyone ever in the model, with the persistent traits drawn once when they join.

The base population is expanded from whole-person counts by LSOA, age and sex; babies born in
a year join the next. Each batch draws its traits from a named stream of its own
(``people/base``, ``people/births/2025``), so the batches never share draws.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from carepool.population.fit import FittedAuthority
from carepool.population.generator.individual_risk import BoolArray, FloatArray, IntArray
from carepool.population.parameters import MAX_LIFE_TABLE_AGE, Parameters
from carepool.population.social_care_rates import MEAN_CARE_HOME_STAY_YEARS
from carepool.population.streams import stream
from carepool.warehouse import CONDITIONS

#: The calendar year in which the model's first financial year starts (2024-25).
FIRST_YEAR = 2024
#: Persons with NHS numbers from 9000000000 upwards are synthetic (the 9 range is never
#: issued to real patients in England; 999 is the NHS test range).
NHS_NUMBER_BASE = 900_000_000


def nhs_numbers(count: int, start: int = 0) -> npt.NDArray[np.str_]:
    """``count`` distinct synthetic NHS numbers with valid modulus-11 check digits, from the
    ``start``-th base of the synthetic range on (a council's block:
    :mod:`carepool.population.identity`); they use at most ``count + count // 8 + 16`` bases."""
    need = count + count // 8 + 16
    base = NHS_NUMBER_BASE + start + np.arange(need, dtype=np.int64)
    digits = (base[:, None] // (10 ** np.arange(8, -1, -1))[None, :]) % 10
    total = (digits * np.arange(10, 1, -1)[None, :]).sum(axis=1)
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    valid = check != 10
    numbers = base[valid][:count] * 10 + check[valid][:count]
    result: npt.NDArray[np.str_] = numbers.astype(str)
    return result


@dataclass
class Cohort:
    """Everyone ever in the model, with their persistent traits (one entry per person)."""

    person_id: IntArray
    sex: npt.NDArray[np.int8]  # 0 female, 1 male
    birth_date: npt.NDArray[np.datetime64]
    base_age: npt.NDArray[np.int16]  # age on 1 April of first_year
    first_year: npt.NDArray[np.int16]  # financial year start (e.g. 2024)
    lsoa: npt.NDArray[np.int32]  # index into the model's LSOA list
    latent: FloatArray
    condition_u: npt.NDArray[np.float32]  # [person, condition]
    screen_u: npt.NDArray[np.float32]
    care_u: npt.NDArray[np.float32]  # [person, 4]: care home, home care, nursing, hours
    finance_u: npt.NDArray[np.float32]  # [person, 3]: income, capital, self-funder
    capital_u: npt.NDArray[np.float32]  # how long a self-funder's capital lasts
    alive: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    conditions: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    care_home: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    #: years paid for as a self-funder in a care home (capital running down)
    self_funded_years: FloatArray = field(default_factory=lambda: np.zeros(0))

    @property
    def size(self) -> int:
        return int(self.person_id.size)


def _birth_dates(
    age: npt.NDArray[np.int16], first_year: int, u: FloatArray
) -> npt.NDArray[np.datetime64]:
    """A birth date that makes each person ``age`` on 1 April of ``first_year``."""
    years = first_year - age.astype(np.int64) - 1
    start = (years - 1970).astype("datetime64[Y]").astype("datetime64[M]") + np.timedelta64(3, "M")
    start_day = start.astype("datetime64[D]") + np.timedelta64(1, "D")  # 2 April
    end_start = ((years + 1) - 1970).astype("datetime64[Y]").astype(
        "datetime64[M]"
    ) + np.timedelta64(3, "M")
    span = (end_start.astype("datetime64[D]") + np.timedelta64(1, "D") - start_day).astype(np.int64)
    offset = np.floor(u * span).astype(np.int64)
    result: npt.NDArray[np.datetime64] = start_day + offset.astype("timedelta64[D]")
    return result


def _open_age_split(
    qx: FloatArray, sex: npt.NDArray[np.int8], u: FloatArray
) -> npt.NDArray[np.int16]:
    """Spread people counted as '90 and over' over ages 90..100 in life-table proportions."""
    ages = np.arange(90, MAX_LIFE_TABLE_AGE + 1)
    result = np.empty(sex.size, dtype=np.int16)
    for s in (0, 1):
        lx = np.cumprod(np.concatenate([[1.0], 1.0 - qx[s, ages[:-1]]]))
        cdf = np.cumsum(lx) / lx.sum()
        idx = sex == s
        result[idx] = ages[np.minimum(np.searchsorted(cdf, u[idx]), ages.size - 1)]
    return result


def new_people(
    *,
    seed: int,
    stream_name: str,
    first_id: int,
    lsoa: npt.NDArray[np.int32],
    age: npt.NDArray[np.int16],
    sex: npt.NDArray[np.int8],
    first_year: int,
    params: Parameters,
) -> Cohort:
    """Draw the persistent traits of a batch of new residents."""
    n = lsoa.size
    rng = stream(seed, f"people/{stream_name}")
    open_u = rng.random(n)
    age = age.copy()
    top = age >= 90
    age[top] = _open_age_split(params.qx, sex[top], open_u[top])
    return Cohort(
        person_id=np.arange(first_id, first_id + n, dtype=np.int64),
        sex=sex,
        birth_date=_birth_dates(age, first_year, rng.random(n)),
        base_age=age,
        first_year=np.full(n, first_year, dtype=np.int16),
        lsoa=lsoa,
        latent=rng.standard_normal(n),
        condition_u=rng.random((n, len(CONDITIONS)), dtype=np.float32),
        screen_u=rng.random(n, dtype=np.float32),
        care_u=rng.random((n, 4), dtype=np.float32),
        finance_u=rng.random((n, 3), dtype=np.float32),
        # its own stream: a new trait leaves every earlier draw as it was
        capital_u=stream(seed, f"people/{stream_name}/capital").random(n, dtype=np.float32),
        alive=np.ones(n, dtype=bool),
        conditions=np.zeros((n, len(CONDITIONS)), dtype=bool),
        care_home=np.zeros(n, dtype=bool),
        self_funded_years=np.zeros(n),
    )


def concat(a: Cohort, b: Cohort) -> Cohort:
    """Two cohorts as one, ``a``'s people first."""

    def cat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.concatenate([x, y])

    return Cohort(
        **{name: cat(getattr(a, name), getattr(b, name)) for name in a.__dataclass_fields__}
    )


def base_cohort(
    fitted: list[FittedAuthority],
    lsoa_index: dict[str, int],
    seed: int,
    params: Parameters,
    first_id: int = 1,
) -> Cohort:
    """Expand whole-person counts ``[lsoa, age, sex]`` into one row per resident, with ids
    from ``first_id``."""
    lsoas: list[npt.NDArray[np.int32]] = []
    ages: list[npt.NDArray[np.int16]] = []
    sexes: list[npt.NDArray[np.int8]] = []
    for authority in fitted:
        idx = np.array([lsoa_index[c] for c in authority.lsoa_codes], dtype=np.int32)
        counts = authority.counts.ravel()
        _, n_age, n_sex = authority.counts.shape
        cell = np.repeat(np.arange(counts.size), counts)
        lsoas.append(idx[cell // (n_age * n_sex)])
        ages.append(((cell // n_sex) % n_age).astype(np.int16))
        sexes.append((cell % n_sex).astype(np.int8))
    cohort = new_people(
        seed=seed,
        stream_name="base",
        first_id=first_id,
        lsoa=np.concatenate(lsoas),
        age=np.concatenate(ages),
        sex=np.concatenate(sexes),
        first_year=FIRST_YEAR,
        params=params,
    )
    # Whoever is in a care home when the model starts has been there a while: as a
    # self-funder, paying from their capital. Their years so far are drawn around the mean
    # stay (the elapsed stays of residents on a day); the first year forgets them for everyone
    # not in a home (:func:`carepool.population.generator.simulation.simulate_year`).
    history = stream(seed, "people/base-care-history")
    cohort.self_funded_years[:] = history.exponential(MEAN_CARE_HOME_STAY_YEARS, cohort.size)
    return cohort
