"""The synthetic population: residents placed in real LSOAs, followed for consecutive years.

Each resident carries persistent traits drawn once: a latent health score ``z`` (which makes
conditions cluster and some people use more care every year), a uniform draw per condition
(so a register is stable from year to year), screening and social care propensities, and
income and capital for the social care means test. Each year then draws, from named streams:
deaths (ONS life table x deprivation ratio x the person's risk), conditions, NHS activity
(age profile x deprivation ratio x conditions, Poisson with a yearly Gamma shock), cancer
screening and diagnosis, talking therapies, learning disability health checks, delayed
discharges and adult social care with its means test. The dead do not return; babies born in
a year join the next one. See docs/data-card.md for every parameter and its source.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from scipy.special import gammaincinv, ndtri

from carepool.population.fit import FittedAuthority
from carepool.population.parameters import (
    ADULT_POPULATION_ENGLAND_2023,
    ASC_CONDITION_WEIGHTS,
    CANCER_INCIDENCE_PER_PREVALENCE,
    CARE_HOME_PER_1000_65PLUS,
    CHRONIC,
    CONDITION_LATENT_SD,
    CONDITION_MORTALITY,
    CONDITION_USE_WEIGHTS,
    DEATH_CAUSE_BASE,
    DEATH_CAUSE_CONDITION,
    ELECTIVE_DAY_CASE_SHARE,
    ELECTIVE_INPATIENT_LOS,
    EMERGENCY_LOS,
    HOME_CARE_HOURS_18_64,
    HOME_CARE_HOURS_65PLUS,
    HOME_CARE_PER_1000_65PLUS,
    INCOME_SIGMA,
    MAX_LIFE_TABLE_AGE,
    NO_CAPITAL_SHARE,
    NURSING_SHARE_OF_CARE_HOME,
    PENSIONER_INCOME_MEDIAN,
    REABLEMENT_AFTER_ADMISSION_65PLUS,
    RESIDENTIAL_SHARE_18_64,
    SCREENING_QUINTILE_FACTOR,
    SERVICE_LATENT_SD,
    STAGE_EARLY_QUINTILE_SHIFT,
    STAGE_EARLY_SCREENED_UPLIFT,
    TT_CONTACTS_COMPLETED,
    TT_CONTACTS_NOT_COMPLETED,
    TT_REFERRAL_DEPRESSION_WEIGHT,
    WORKING_AGE_INCOME_MEDIAN,
    YEAR_GAMMA_SHAPE,
    Parameters,
    condition_band,
    service_band,
)
from carepool.population.streams import stream
from carepool.warehouse.schemas import ASC_FUNDING, ASC_SETTINGS, CONDITIONS, DEATH_CAUSES

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

FIRST_YEAR = 2024
STATE_PENSION_AGE = 66
#: Persons with NHS numbers from 9000000000 upwards are synthetic (the 9 range is never
#: issued to real patients in England; 999 is the NHS test range).
NHS_NUMBER_BASE = 900_000_000


def financial_year(start: int) -> str:
    return f"{start}-{(start + 1) % 100:02d}"


def year_start(start: int) -> np.datetime64:
    return np.datetime64(f"{start}-04-01")


def nhs_numbers(count: int) -> npt.NDArray[np.str_]:
    """``count`` distinct synthetic NHS numbers with valid modulus-11 check digits."""
    need = count + count // 8 + 16
    base = NHS_NUMBER_BASE + np.arange(need, dtype=np.int64)
    digits = (base[:, None] // (10 ** np.arange(8, -1, -1))[None, :]) % 10
    total = (digits * np.arange(10, 1, -1)[None, :]).sum(axis=1)
    check = 11 - total % 11
    check = np.where(check == 11, 0, check)
    valid = check != 10
    numbers = base[valid][:count] * 10 + check[valid][:count]
    result: npt.NDArray[np.str_] = numbers.astype(str)
    return result


def normalise_within(
    values: FloatArray, groups: IntArray, mask: BoolArray | None = None
) -> FloatArray:
    """Divide ``values`` by their mean within each group (over ``mask`` where given)."""
    m = np.ones(values.shape, dtype=bool) if mask is None else mask
    n_groups = int(groups.max()) + 1 if groups.size else 0
    sums = np.bincount(groups[m], weights=values[m], minlength=n_groups)
    counts = np.bincount(groups[m], minlength=n_groups)
    means = np.divide(sums, counts, out=np.ones(n_groups), where=counts > 0)
    means[means == 0] = 1.0
    return values / means[groups]


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
    alive: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    conditions: BoolArray = field(default_factory=lambda: np.zeros((0, 0), dtype=bool))
    care_home: BoolArray = field(default_factory=lambda: np.zeros(0, dtype=bool))

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
        alive=np.ones(n, dtype=bool),
        conditions=np.zeros((n, len(CONDITIONS)), dtype=bool),
        care_home=np.zeros(n, dtype=bool),
    )


def concat(a: Cohort, b: Cohort) -> Cohort:
    def cat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return np.concatenate([x, y])

    return Cohort(
        **{name: cat(getattr(a, name), getattr(b, name)) for name in a.__dataclass_fields__}
    )


def base_cohort(
    fitted: list[FittedAuthority], lsoa_index: dict[str, int], seed: int, params: Parameters
) -> Cohort:
    """Expand whole-person counts ``[lsoa, age, sex]`` into one row per resident."""
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
    return new_people(
        seed=seed,
        stream_name="base",
        first_id=1,
        lsoa=np.concatenate(lsoas),
        age=np.concatenate(ages),
        sex=np.concatenate(sexes),
        first_year=FIRST_YEAR,
        params=params,
    )


@dataclass(frozen=True)
class YearResult:
    """One financial year of the model: a column per field of the person_year table."""

    year: str
    rows: IntArray  # indices into the cohort of the people in this year
    columns: dict[str, np.ndarray]
    births: tuple[npt.NDArray[np.int32], npt.NDArray[np.int8]]  # lsoa, sex of next year's babies


def _mean_one_lognormal(z: FloatArray, sd: float) -> FloatArray:
    return np.asarray(np.exp(sd * z - 0.5 * sd * sd), dtype=np.float64)


@dataclass(frozen=True)
class Area:
    """What the generator knows of each LSOA: deprivation quintile and local authority,
    and each authority's calibrated mortality multiplier by sex."""

    quintile_of_lsoa: npt.NDArray[np.int8]  # 1..5
    lad_of_lsoa: npt.NDArray[np.int64]  # index into the authority list
    mortality: FloatArray  # [authority, sex]


def simulate_year(
    cohort: Cohort,
    start: int,
    seed: int,
    params: Parameters,
    area: Area,
) -> YearResult:
    """Simulate financial year ``start`` (e.g. 2024 = 2024-25) for everyone alive in it."""
    year = financial_year(start)
    rows = np.nonzero(cohort.alive & (cohort.first_year <= start))[0]
    n = rows.size
    sex = cohort.sex[rows]
    age = (cohort.base_age[rows] + (start - cohort.first_year[rows])).astype(np.int16)
    q = area.quintile_of_lsoa[cohort.lsoa[rows]].astype(np.int64) - 1  # 0..4
    z = cohort.latent[rows]
    cband = condition_band(age)
    sband = service_band(age)
    days_in_year = int((year_start(start + 1) - year_start(start)).astype(int))

    def rng(name: str) -> np.random.Generator:
        return stream(seed, f"{year}/{name}")

    # --- conditions at the start of the year -------------------------------------------
    previous = cohort.conditions[rows]
    conditions = np.zeros((n, len(CONDITIONS)), dtype=bool)
    cond_mult = _mean_one_lognormal(z, CONDITION_LATENT_SD)
    for j, name in enumerate(CONDITIONS):
        p = params.prevalence[name][sex, cband] * params.condition_rr[name][q] * cond_mult
        present = cohort.condition_u[rows, j] < np.minimum(p, 0.98)
        if name in CHRONIC:
            present |= previous[:, j]
        conditions[:, j] = present
    col = {name: j for j, name in enumerate(CONDITIONS)}

    def has(name: str) -> BoolArray:
        return conditions[:, col[name]]

    # --- deaths ---------------------------------------------------------------------
    death_rng = rng("deaths")
    health = _mean_one_lognormal(z, SERVICE_LATENT_SD)
    for name, mult in CONDITION_MORTALITY.items():
        health = health * np.where(has(name), mult, 1.0)
    # Individual risk only redistributes deaths: within each (area, sex, age, quintile) cell
    # the expected number of deaths is exactly that of the calibrated life table.
    lad = area.lad_of_lsoa[cohort.lsoa[rows]]
    qx = params.qx[sex, np.minimum(age, MAX_LIFE_TABLE_AGE)]
    k_cell = params.mortality_rr[sex, q] * area.mortality[lad, sex]
    q_cell = 1.0 - np.power(1.0 - qx, k_cell)
    q_raw = 1.0 - np.power(1.0 - qx, k_cell * health)
    cell = (
        (lad * 2 + sex) * (MAX_LIFE_TABLE_AGE + 1) + np.minimum(age, MAX_LIFE_TABLE_AGE)
    ) * 5 + q
    n_cells = int(area.mortality.shape[0]) * 2 * (MAX_LIFE_TABLE_AGE + 1) * 5
    wanted = np.bincount(cell, weights=q_cell, minlength=n_cells)
    drawn = np.bincount(cell, weights=q_raw, minlength=n_cells)
    scale = np.divide(wanted, drawn, out=np.ones(n_cells), where=drawn > 0)
    q_year = np.minimum(q_raw * scale[cell], 0.999)
    died = death_rng.random(n) < q_year
    death_day = np.floor(death_rng.random(n) * days_in_year).astype(np.int64)
    days_alive = np.where(died, death_day + 1, days_in_year).astype(np.int16)
    exposure = days_alive / days_in_year
    death_date = np.where(
        died, year_start(start) + death_day.astype("timedelta64[D]"), np.datetime64("NaT")
    )
    dead = np.nonzero(died)[0]
    cause_weights = np.stack([DEATH_CAUSE_BASE[c][sband[dead]] for c in DEATH_CAUSES], axis=1)
    for j, cause in enumerate(DEATH_CAUSES):
        if cause in DEATH_CAUSE_CONDITION:
            cond, mult = DEATH_CAUSE_CONDITION[cause]
            cause_weights[:, j] *= np.where(has(cond)[dead], mult, 1.0)
    cause_cdf = np.cumsum(cause_weights, axis=1)
    cause_u = death_rng.random(dead.size) * cause_cdf[:, -1]
    death_cause = np.full(n, -1, dtype=np.int8)  # codes into DEATH_CAUSES
    death_cause[dead] = (cause_u[:, None] > cause_cdf).sum(axis=1)

    # --- NHS activity ---------------------------------------------------------------
    year_shock = rng("shock").gamma(YEAR_GAMMA_SHAPE, 1.0 / YEAR_GAMMA_SHAPE, n)
    service_latent = _mean_one_lognormal(z, SERVICE_LATENT_SD)
    counts: dict[str, IntArray] = {}
    for service, weights in CONDITION_USE_WEIGHTS.items():
        use = np.ones(n)
        for cond, w in weights.items():
            use += w * has(cond)
        use = normalise_within(use * service_latent, sband)
        lam = (
            params.service_rate[service][sband]
            * params.service_rr[service][q]
            * use
            * exposure
            * year_shock
        )
        counts[service] = rng(f"activity/{service}").poisson(lam).astype(np.int64)
    stay_rng = rng("stays")
    emergency_bed_days = stay_rng.poisson(counts["emergency_admissions"] * EMERGENCY_LOS[sband])
    inpatients = stay_rng.binomial(counts["elective_admissions"], 1.0 - ELECTIVE_DAY_CASE_SHARE)
    elective_bed_days = stay_rng.poisson(inpatients * ELECTIVE_INPATIENT_LOS)
    older_days = np.where(age >= 65, emergency_bed_days, 0)
    target_delayed = params.delayed_discharge_per_person * float(exposure.sum())
    p_delay = min(1.0, target_delayed / max(float(older_days.sum()), 1.0))
    delayed = stay_rng.binomial(older_days, p_delay)

    # --- talking therapies ----------------------------------------------------------
    tt_rng = rng("talking_therapies")
    adult = age >= 18
    tt_weight = normalise_within(
        1.0 + TT_REFERRAL_DEPRESSION_WEIGHT * has("depression").astype(np.float64),
        adult.astype(np.int64),
        adult,
    )
    base_referral = params.programme["tt_referrals"] / ADULT_POPULATION_ENGLAND_2023
    referred = adult & (tt_rng.random(n) < base_referral * tt_weight * exposure)
    completed = referred & (tt_rng.random(n) < params.programme["tt_completion"])
    tt_contacts = np.where(
        referred,
        tt_rng.poisson(np.where(completed, TT_CONTACTS_COMPLETED, TT_CONTACTS_NOT_COMPLETED)),
        0,
    )
    most, least = params.tt_recovery_most_least
    recovery = most + (least - most) * q / 4.0
    recovered = np.ma.array(tt_rng.random(n) < recovery, mask=~completed)

    # --- screening, cancer ----------------------------------------------------------
    female = sex == 0
    factor = SCREENING_QUINTILE_FACTOR / SCREENING_QUINTILE_FACTOR.mean()
    su = cohort.screen_u[rows]
    breast_el = female & (age >= 50) & (age <= 70)
    cerv_el = female & (age >= 25) & (age <= 64)
    bowel_el = (age >= 60) & (age <= 74)
    cerv_cov = np.where(
        age <= 49,
        params.programme["cervical_25_49_coverage"],
        params.programme["cervical_50_64_coverage"],
    )
    breast_cov = breast_el & (su < params.programme["breast_coverage"] * factor[q])
    cerv_cov_b = cerv_el & (su < cerv_cov * factor[q])
    bowel_cov = bowel_el & (su < params.programme["bowel_coverage"] * factor[q])
    cancer_rng = rng("cancer")
    incidence = (
        params.prevalence["cancer"][sex, cband]
        * CANCER_INCIDENCE_PER_PREVALENCE
        * params.condition_rr["cancer"][q]
        * exposure
    )
    diagnosed = ~has("cancer") & (cancer_rng.random(n) < incidence)
    screened = breast_cov | cerv_cov_b | bowel_cov
    p_early = (
        params.programme["stage_1_2_share"]
        - STAGE_EARLY_SCREENED_UPLIFT / 2
        + STAGE_EARLY_QUINTILE_SHIFT[q]
        + STAGE_EARLY_SCREENED_UPLIFT * screened
    )
    early = cancer_rng.random(n) < p_early
    sub = cancer_rng.random(n)
    stage = np.where(early, np.where(sub < 0.5, 1, 2), np.where(sub < 0.45, 3, 4))
    cancer_stage = np.ma.array(stage.astype(np.int8), mask=~diagnosed)

    # --- learning disability health checks --------------------------------------------
    ld_eligible = has("learning_disability") & (age >= 14)
    ld_check = np.ma.array(
        rng("ld_checks").random(n) < params.programme["ld_health_check"], mask=~ld_eligible
    )

    # --- adult social care ----------------------------------------------------------
    care = _social_care(
        cohort,
        rows,
        age,
        q,
        has,
        exposure,
        counts["emergency_admissions"],
        params,
        rng("social_care"),
    )

    # --- costs ----------------------------------------------------------------------
    price = params.unit_cost_pence
    nhs_cost = np.zeros(n, dtype=np.int64)
    for service in CONDITION_USE_WEIGHTS:
        nhs_cost += counts[service] * price[service]
    nhs_cost += tt_contacts * price["talking_therapies_contacts"]

    cohort.conditions[rows] = conditions | (diagnosed[:, None] & (np.array(CONDITIONS) == "cancer"))
    cohort.care_home[rows] = care["care_home"]
    cohort.alive[rows[died]] = False

    babies = age == 0
    columns: dict[str, np.ndarray] = {
        "age": age,
        "sex": sex,  # codes into SEXES
        "imd_quintile": (q + 1).astype(np.int8),
        "days_alive": days_alive,
        **{f"has_{name}": conditions[:, j] for j, name in enumerate(CONDITIONS)},
        "died": died,
        "death_date": death_date,
        "death_cause": death_cause,
        **counts,
        "emergency_bed_days": emergency_bed_days,
        "delayed_discharge_days": delayed,
        "elective_bed_days": elective_bed_days,
        "talking_therapies_referred": referred,
        "talking_therapies_contacts": tt_contacts,
        "talking_therapies_recovered": recovered,
        "breast_screening_eligible": breast_el,
        "breast_screening_covered": breast_cov,
        "cervical_screening_eligible": cerv_el,
        "cervical_screening_covered": cerv_cov_b,
        "bowel_screening_eligible": bowel_el,
        "bowel_screening_covered": bowel_cov,
        "cancer_diagnosed": diagnosed,
        "cancer_stage": cancer_stage,
        "ld_health_check": ld_check,
        "asc_setting": care["setting"],
        "asc_funding": care["funding"],
        "asc_home_care_hours": care["hours"],
        "asc_reablement_episodes": care["reablement"],
        "asc_residential_weeks": care["residential_weeks"],
        "asc_nursing_weeks": care["nursing_weeks"],
        "asc_client_contribution_pence": care["contribution"],
        "self_funded_pence": care["self_funded"],
        "nhs_cost_pence": nhs_cost,
        "council_cost_pence": care["council_cost"],
    }
    return YearResult(
        year=year,
        rows=rows,
        columns=columns,
        births=(cohort.lsoa[rows[babies]], sex[babies]),
    )


def _social_care(
    cohort: Cohort,
    rows: IntArray,
    age: npt.NDArray[np.int16],
    q: IntArray,
    has: object,
    exposure: FloatArray,
    emergency: IntArray,
    params: Parameters,
    rng: np.random.Generator,
) -> dict[str, np.ndarray]:
    """Long-term care, reablement and the Care Act means test for one year."""
    assert callable(has)
    n = rows.size
    cu = cohort.care_u[rows]
    fu = cohort.finance_u[rows]
    older = age >= 65
    working = (age >= 18) & (age < 65)
    band65 = np.clip((age - 65) // 10, 0, 2).astype(np.int64)
    mult = np.ones(n)
    for cond, w in ASC_CONDITION_WEIGHTS.items():
        mult += w * has(cond)
    group = np.where(older, 1 + band65, 0).astype(np.int64)
    mult = normalise_within(mult, group, older | working)
    rr = params.asc_rr[q]

    p_home = np.minimum(CARE_HOME_PER_1000_65PLUS[band65] / 1000.0 * rr * mult, 0.95)
    care_home = older & ((cu[:, 0] < p_home) | cohort.care_home[rows])
    p_hc = np.minimum(HOME_CARE_PER_1000_65PLUS[band65] / 1000.0 * rr * mult, 0.95)
    home_care_older = older & ~care_home & (cu[:, 1] < p_hc)
    p_working = np.minimum(params.asc_clients_per_1000["18-64"] / 1000.0 * rr * mult, 0.95)
    working_client = working & (cu[:, 1] < p_working)
    working_residential = working_client & (cu[:, 2] < RESIDENTIAL_SHARE_18_64)
    nursing = care_home & (cu[:, 2] < NURSING_SHARE_OF_CARE_HOME)
    residential = (care_home & ~nursing) | working_residential
    home_care = home_care_older | (working_client & ~working_residential)
    setting = np.full(n, -1, dtype=np.int8)  # codes into ASC_SETTINGS
    setting[home_care] = ASC_SETTINGS.index("home_care")
    setting[residential] = ASC_SETTINGS.index("residential")
    setting[nursing] = ASC_SETTINGS.index("nursing")

    # means test: capital above the upper limit makes a self-funder (65+ only)
    c = params.charging
    most, least = params.self_funder_share_q1_q5
    p_self = most + (least - most) * q / 4.0
    self_funder = older & (fu[:, 2] < p_self) & (home_care | residential | nursing)
    in_care = home_care | residential | nursing
    funding = np.full(n, -1, dtype=np.int8)  # codes into ASC_FUNDING
    funding[in_care & ~self_funder] = ASC_FUNDING.index("council_funded")
    funding[self_funder] = ASC_FUNDING.index("self_funder")

    weeks = np.rint(52.0 * exposure).astype(np.int64)
    mean_hours = np.where(older, HOME_CARE_HOURS_65PLUS, HOME_CARE_HOURS_18_64)
    # the gamma(shape 2, scale mean/2) quantile: scale × P⁻¹(2, u)
    weekly_hours = gammaincinv(2.0, np.clip(cu[:, 3], 1e-6, 1 - 1e-6)) * (mean_hours / 2.0)
    hours = np.where(home_care, np.rint(weekly_hours * weeks), 0).astype(np.int64)
    residential_weeks = np.where(residential, weeks, 0)
    nursing_weeks = np.where(nursing, weeks, 0)
    reablement = (
        older & ~care_home & (emergency > 0) & (rng.random(n) < REABLEMENT_AFTER_ADMISSION_65PLUS)
    ).astype(np.int64)

    income_median = np.where(older, PENSIONER_INCOME_MEDIAN[q], WORKING_AGE_INCOME_MEDIAN)
    income = income_median * np.exp(INCOME_SIGMA * ndtri(np.clip(fu[:, 0], 1e-6, 1 - 1e-6)))
    has_capital = fu[:, 1] >= NO_CAPITAL_SHARE
    capital = np.where(
        has_capital,
        (fu[:, 1] - NO_CAPITAL_SHARE) / (1 - NO_CAPITAL_SHARE) * c["upper_capital_limit"],
        0.0,
    )
    tariff = (
        np.ceil(np.maximum(0.0, capital - c["lower_capital_limit"]) / 250.0) * c["tariff_income"]
    )
    mig = np.where(age >= STATE_PENSION_AGE, c["mig_pension_age"], c["mig_25_plus"])
    price = params.unit_cost_pence
    gross_council = (
        hours * price["asc_home_care_hours"]
        + residential_weeks * price["asc_residential_weeks"]
        + nursing_weeks * price["asc_nursing_weeks"]
    )
    weekly_charge_home = np.maximum(0.0, income + tariff - c["pea"])
    weekly_charge_community = np.maximum(0.0, income + tariff - mig)
    weekly_charge = np.where(home_care, weekly_charge_community, weekly_charge_home)
    charge_pence = np.rint(weekly_charge * 100).astype(np.int64) * np.maximum(weeks, 0)
    council_funded = in_care & ~self_funder
    contribution = np.where(council_funded, np.minimum(charge_pence, gross_council), 0)
    self_funded = np.where(
        self_funder,
        hours * price["asc_home_care_hours"]
        + residential_weeks * price["self:asc_residential_weeks"]
        + nursing_weeks * price["self:asc_nursing_weeks"],
        0,
    ).astype(np.int64)
    council_cost = (
        np.where(council_funded, gross_council - contribution, 0)
        + reablement * price["asc_reablement_episodes"]
    ).astype(np.int64)
    return {
        "care_home": care_home,
        "setting": setting,
        "funding": funding,
        "hours": hours,
        "residential_weeks": residential_weeks.astype(np.int64),
        "nursing_weeks": nursing_weeks.astype(np.int64),
        "reablement": reablement,
        "contribution": contribution.astype(np.int64),
        "self_funded": self_funded,
        "council_cost": council_cost,
        "self_funder": self_funder,
    }


def simulate(
    fitted: list[FittedAuthority],
    lsoa_codes: list[str],
    area: Area,
    seed: int,
    params: Parameters,
    years: int = 2,
) -> Iterator[tuple[Cohort, YearResult]]:
    """Run the model for ``years`` consecutive financial years from 2024-25."""
    index = {code: i for i, code in enumerate(lsoa_codes)}
    cohort = base_cohort(fitted, index, seed, params)
    for t in range(years):
        start = FIRST_YEAR + t
        result = simulate_year(cohort, start, seed, params, area)
        lsoa, sex = result.births
        yield cohort, result
        del result  # free this year's arrays before the next year is drawn
        if t + 1 < years and lsoa.size:
            babies = new_people(
                seed=seed,
                stream_name=f"births/{start + 1}",
                first_id=int(cohort.person_id.max()) + 1,
                lsoa=lsoa,
                age=np.zeros(lsoa.size, dtype=np.int16),
                sex=sex,
                first_year=start + 1,
                params=params,
            )
            cohort = concat(cohort, babies)
