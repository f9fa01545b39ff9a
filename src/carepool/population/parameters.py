"""The generator's parameters, read from the vendored rates card (``reference/data/rates``).

Every number used to generate people comes from here. Published figures are read from the
card's CSV files by name; the few judgements that the card does not supply (how much each
condition raises the use of each service, lengths of stay, care home residence by age) are
named constants below with their reasoning, and listed in docs/data-card.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import numpy.typing as npt
import pandas as pd

from carepool.ages import AgeBands
from carepool.errors import ReferenceDataError
from carepool.population.mortality_gradient import age_shaped_ratios
from carepool.population.social_care_rates import care_ratios_65plus, self_funder_share_by_quintile
from carepool.reference import read_reference
from carepool.warehouse import CONDITIONS

FloatArray = npt.NDArray[np.float64]

#: Condition age bands of the rates card (prevalence_by_age_sex.csv): 0-15, ..., 85+.
CONDITION_AGES = AgeBands((0, 16, 35, 55, 65, 75, 85))
CONDITION_BANDS = CONDITION_AGES.labels
#: Service-use age bands of the rates card (utilisation_per_1000.csv): 0-4, ..., 85+.
SERVICE_AGES = AgeBands((0, 5, 15, 45, 65, 75, 85))
SERVICE_BANDS = SERVICE_AGES.labels
MORTALITY_PERIOD = "2018-2020"
MAX_LIFE_TABLE_AGE = 100

ASC_RR_ROW = "asc_long_term_support_rate_ratio_Q1_vs_Q5"

#: Card names of the condition prevalence rows and of their Q1-vs-Q5 rate ratios.
_CONDITION_ROWS = {
    "diabetes": ("diabetes_diagnosed", "diabetes_diagnosed_rate_ratio_Q1_vs_Q5"),
    "copd": ("copd", "copd_rate_ratio_Q1_vs_Q5"),
    "chd": ("chd", "chd_rate_ratio_Q1_vs_Q5"),
    "heart_failure": ("heart_failure", "heart_failure_rate_ratio_Q1_vs_Q5"),
    "asthma": ("asthma_active", "asthma_rate_ratio_Q1_vs_Q5"),
    "dementia": ("dementia_diagnosed", "dementia_rate_ratio_Q1_vs_Q5"),
    "depression": ("depression_register", "depression_rate_ratio_Q1_vs_Q5"),
    "smi": ("smi_register", "smi_rate_ratio_Q1_vs_Q5"),
    "learning_disability": (
        "learning_disability_register",
        "learning_disability_rate_ratio_Q1_vs_Q5",
    ),
    "cancer": ("cancer_register", "cancer_ever_rate_ratio_Q1_vs_Q5"),
    "frailty": ("frailty_eFI_moderate_or_severe", "frailty_moderate_severe_rate_ratio_Q1_vs_Q5"),
    "hypertension": ("hypertension_measured", "hypertension_diagnosed_rate_ratio_Q1_vs_Q5"),
}

#: QOF national register prevalence (2023/24) each condition is rescaled to, with the lowest
#: age of the register's denominator. Frailty has no QOF register and keeps the card's shape.
_QOF_ROWS = {
    "hypertension": ("hypertension_QOF_register", 0),
    "diabetes": ("diabetes_QOF_register", 17),
    "asthma": ("asthma_QOF_register", 6),
    "copd": ("copd_QOF_register", 0),
    "chd": ("chd_QOF_register", 0),
    "heart_failure": ("heart_failure_QOF_register", 0),
    "dementia": ("dementia_QOF_register", 0),
    "smi": ("smi_QOF_register", 0),
    "learning_disability": ("learning_disability_QOF_register", 0),
    "cancer": ("cancer_QOF_register", 0),
    "depression": ("depression_register", 18),
}

#: Conditions that, once on the register, stay on it (QOF registers of chronic disease).
CHRONIC = frozenset(CONDITIONS) - {"depression", "asthma"}

#: Persistent individual risk: each resident's latent health ``z ~ N(0, 1)`` multiplies
#: condition odds by ``exp(CONDITION_LATENT_SD * z)`` (mean-one lognormal), which makes
#: conditions cluster in the same people (multimorbidity), as the card advises.
CONDITION_LATENT_SD = 0.6
#: ... and service use by ``exp(SERVICE_LATENT_SD * z)``: some people use more every year.
SERVICE_LATENT_SD = 0.5
#: Year-to-year variation in one person's use: a Gamma(shape, 1/shape) multiplier a year.
YEAR_GAMMA_SHAPE = 3.0

#: Service-use uplift per condition: rate multiplier = 1 + sum of the weights of the person's
#: conditions, renormalised within each age band so the card's age profile is kept.
#: Judgement (the card supplies none): larger for the conditions that dominate each service.
CONDITION_USE_WEIGHTS: dict[str, dict[str, float]] = {
    "gp_appointments": dict.fromkeys(CONDITIONS, 0.3),
    "ae_attendances": {
        "copd": 0.5,
        "heart_failure": 0.6,
        "chd": 0.3,
        "dementia": 0.5,
        "smi": 1.0,
        "depression": 0.4,
        "frailty": 0.8,
        "diabetes": 0.3,
        "asthma": 0.3,
    },
    "emergency_admissions": {
        "copd": 1.0,
        "heart_failure": 1.5,
        "chd": 0.6,
        "diabetes": 0.5,
        "dementia": 1.0,
        "frailty": 1.5,
        "cancer": 0.8,
        "smi": 0.8,
        "asthma": 0.3,
    },
    "elective_admissions": {"cancer": 1.5, "chd": 0.5, "diabetes": 0.3, "heart_failure": 0.4},
    "outpatient_attendances": {
        "cancer": 1.5,
        "diabetes": 0.5,
        "chd": 0.5,
        "heart_failure": 0.7,
        "copd": 0.4,
    },
    "community_contacts": {
        "frailty": 3.0,
        "heart_failure": 1.0,
        "dementia": 1.5,
        "diabetes": 0.5,
        "copd": 0.8,
    },
    "mental_health_contacts": {
        "depression": 2.0,
        "smi": 8.0,
        "dementia": 2.0,
        "learning_disability": 1.0,
    },
    "ambulance_conveyances": {
        "copd": 1.0,
        "heart_failure": 1.5,
        "chd": 0.6,
        "dementia": 1.2,
        "frailty": 1.5,
        "smi": 0.8,
    },
}

#: Mortality multiplier per condition, renormalised within each age-sex band (judgement; the
#: deprivation ratios of the card are applied on top, so the gradient is the card's).
CONDITION_MORTALITY: dict[str, float] = {
    "cancer": 2.0,
    "heart_failure": 2.5,
    "copd": 1.8,
    "dementia": 2.5,
    "chd": 1.4,
    "diabetes": 1.3,
    "frailty": 2.0,
    "smi": 1.8,
    "learning_disability": 1.8,
}
#: Mortality multiplier for living in a care home, beyond the conditions that took the
#: resident there, renormalised like the conditions'. A judgement: residents then die at about
#: 26% a year, between the 16% the life table and conditions alone gave and the 45% that
#: Bupa's nursing-heavy mean stay of 801 days implies (docs/data-card.md).
CARE_HOME_MORTALITY = 4.0

#: Mean length of stay (bed days per emergency admission) by service age band (judgement,
#: in line with HES: about 1 day in childhood rising to 9-10 days at 85+).
EMERGENCY_LOS = np.array([1.2, 1.5, 2.5, 4.0, 5.5, 7.5, 9.5])
#: Share of elective admissions that are day cases, and the mean stay of the others.
ELECTIVE_DAY_CASE_SHARE = 0.8
ELECTIVE_INPATIENT_LOS = 3.5

#: Broad cause of death: base weights by service age band (judgement from the ONS leading
#: causes), multiplied for people on the matching register.
DEATH_CAUSE_BASE = {
    "cancer": np.array([0.10, 0.15, 0.15, 0.38, 0.35, 0.26, 0.15]),
    "circulatory": np.array([0.05, 0.05, 0.10, 0.22, 0.24, 0.24, 0.24]),
    "respiratory": np.array([0.10, 0.05, 0.05, 0.09, 0.12, 0.13, 0.14]),
    "dementia": np.array([0.00, 0.00, 0.00, 0.01, 0.04, 0.11, 0.20]),
    "external": np.array([0.20, 0.35, 0.40, 0.08, 0.03, 0.02, 0.02]),
    "other": np.array([0.55, 0.40, 0.30, 0.22, 0.22, 0.24, 0.25]),
}
DEATH_CAUSE_CONDITION = {
    "cancer": ("cancer", 6.0),
    "circulatory": ("chd", 3.0),
    "respiratory": ("copd", 4.0),
    "dementia": ("dementia", 8.0),
}

#: Talking therapies (card: 1.8m referrals in 2023/24; 37% complete treatment; recovery 40.5%
#: in the most and 52.4% in the least deprived areas). Contacts per course: judgement.
TT_REFERRAL_DEPRESSION_WEIGHT = 5.0
TT_CONTACTS_COMPLETED = 6.0
TT_CONTACTS_NOT_COMPLETED = 0.6
ADULT_POPULATION_ENGLAND_2023 = 45_700_000  # approximate, ONS mid-2023 (card convention)

#: Screening coverage by deprivation quintile relative to the mean (judgement: coverage is
#: lower in more deprived areas, e.g. PHE screening inequalities reports).
SCREENING_QUINTILE_FACTOR = np.array([0.88, 0.95, 1.0, 1.05, 1.08])
#: New cancers a year as a share of the card's cancer register prevalence (judgement; gives
#: about 0.55% of residents a year, near Cancer Research UK's 330k a year in England).
CANCER_INCIDENCE_PER_PREVALENCE = 0.15
STAGE_EARLY_SCREENED_UPLIFT = 0.10
STAGE_EARLY_QUINTILE_SHIFT = np.array([-0.04, -0.02, 0.0, 0.02, 0.04])


def condition_band(age: npt.NDArray[np.int16]) -> npt.NDArray[np.int64]:
    return CONDITION_AGES.index(age)


def service_band(age: npt.NDArray[np.int16]) -> npt.NDArray[np.int64]:
    return SERVICE_AGES.index(age)


def quintile_ratios(q1_vs_q5: float) -> FloatArray:
    """Rate multipliers for IMD quintiles 1..5 from a Q1-vs-Q5 ratio (the card's rule).

    Log-linear across quintiles, ``RR_q ∝ RR^((3 - q) / 4)``, normalised so the mean over the
    five (equal-population nationally) quintiles is 1.
    """
    q = np.arange(1, 6)
    raw = q1_vs_q5 ** ((3 - q) / 4.0)
    return np.asarray(raw / raw.mean(), dtype=np.float64)


@dataclass(frozen=True)
class Parameters:
    """Everything the generator draws from, as arrays indexed by sex, age band and quintile."""

    qx: FloatArray  # [sex, age 0..100]
    mortality_rr: FloatArray  # [sex, quintile, age 0..100], shaped by age
    prevalence: dict[str, FloatArray]  # condition -> [sex, condition band]
    condition_rr: dict[str, FloatArray]  # condition -> [quintile]
    service_rate: dict[str, FloatArray]  # service -> per person-year [service band]
    service_rr: dict[str, FloatArray]  # service -> [quintile]
    unit_cost_pence: dict[str, int]
    unit_cost_source: dict[str, str]
    programme: dict[str, float]
    asc_clients_per_1000: dict[str, float]
    self_funder_share_q1_q5: tuple[float, float]
    tt_recovery_most_least: tuple[float, float]
    delayed_discharge_per_person: float
    charging: dict[str, float]
    asc_rr: FloatArray  # [quintile]: council-supported long-term clients
    care_rr_65plus: FloatArray  # [quintile]: older people's long-term care, whoever pays


def _card(key: str) -> pd.DataFrame:
    frame: pd.DataFrame = read_reference(key).to_pandas()
    return frame


def _value(frame: pd.DataFrame, where: dict[str, str], what: str) -> float:
    rows = frame
    for col, val in where.items():
        rows = rows[rows[col].astype(str) == val]
    if len(rows) != 1:
        raise ReferenceDataError(
            f"rates card: expected one row for {what} ({where}), found {len(rows)}"
        )
    return float(rows["value"].iloc[0])


def _england_age_structure() -> FloatArray:
    """England persons by single year of age 0..90 (ONS mid-2020), for QOF calibration."""
    from carepool.population.lsoa_change import AGE_COLUMNS

    pop = read_reference("population_mid2020_lsoa11", columns=list(AGE_COLUMNS))
    return np.array([float(np.sum(pop.column(c).to_numpy())) for c in AGE_COLUMNS])


def _prevalence_table(prev: pd.DataFrame, card_name: str) -> FloatArray:
    table = np.zeros((2, len(CONDITION_BANDS)))
    rows = prev[prev["condition"] == card_name]
    for s, sex in enumerate(("female", "male")):
        for b, band in enumerate(CONDITION_BANDS):
            hit = rows[(rows["sex"] == sex) & (rows["age_band"] == band)]
            if len(hit) == 1:
                table[s, b] = float(hit["value"].iloc[0]) / 100.0
    return table


def _hypertension_table(prev: pd.DataFrame) -> FloatArray:
    """HSE measured hypertension mapped onto the condition bands (shape only; rescaled later)."""
    rows = prev[
        (prev["condition"] == "hypertension_measured") & (prev["year"].astype(str) == "2022")
    ]
    mapping = {
        "16-34": ("16-34",),
        "35-54": ("35-44", "45-54"),
        "55-64": ("55-64",),
        "65-74": ("65-74",),
        "75-84": ("75+",),
        "85+": ("75+",),
    }
    table = np.zeros((2, len(CONDITION_BANDS)))
    for s, sex in enumerate(("female", "male")):
        for b, band in enumerate(CONDITION_BANDS):
            sources = mapping.get(band, ())
            vals = [
                float(rows[(rows["sex"] == sex) & (rows["age_band"] == src)]["value"].iloc[0])
                for src in sources
            ]
            table[s, b] = np.mean(vals) / 100.0 if vals else 0.0
    return table


def _charging(year: str) -> dict[str, float]:
    """Care Act charging parameters in force in financial year ``year`` (``2024/25``).

    The latest published value at or before the year, else the earliest after it.
    """
    frame = _card("care_act_charging")
    wanted = {
        "upper_capital_limit": "upper_capital_limit",
        "lower_capital_limit": "lower_capital_limit",
        "tariff_income": "tariff_income",
        "pea": "personal_expenses_allowance",
        "mig_25_plus": "mig_single_25_to_pension_credit_age",
        "mig_pension_age": "mig_single_pension_credit_age",
    }
    result: dict[str, float] = {}
    for key, name in wanted.items():
        rows = frame[frame["parameter"] == name]
        if rows.empty:
            raise ReferenceDataError(f"care_act_charging_thresholds.csv: no {name} rows")
        dated = rows[rows["financial_year"].str.match(r"^\d{4}/\d{2}$")]
        if dated.empty:
            result[key] = float(rows["value"].iloc[0])
            continue
        before = dated[dated["financial_year"] <= year].sort_values("financial_year")
        chosen = (
            before.iloc[-1] if not before.empty else dated.sort_values("financial_year").iloc[0]
        )
        result[key] = float(chosen["value"])
    return result


SERVICE_COSTS = {
    # service -> (unit cost item in unit_costs.csv, payer kind)
    "gp_appointments": ("gp_appointment_average_all_staff", "nhs"),
    "ae_attendances": ("ae_attendance", "nhs"),
    "emergency_admissions": ("non_elective_admission_average", "nhs"),
    "elective_admissions": ("elective_admission_average", "nhs"),
    "outpatient_attendances": ("outpatient_attendance", "nhs"),
    "community_contacts": ("district_nurse_visit", "nhs"),
    "mental_health_contacts": ("mental_health_care_contact_average", "nhs"),
    "talking_therapies_contacts": ("talking_therapies_contact", "nhs"),
    "ambulance_conveyances": ("ambulance_see_and_convey", "nhs"),
    "asc_home_care_hours": ("home_care_hour_la", "council"),
    "asc_residential_weeks": ("residential_care_week_la", "council"),
    "asc_nursing_weeks": ("nursing_care_week_la", "council"),
    "asc_reablement_episodes": ("reablement_episode", "council"),
}
#: What self-funders pay a week in care homes (market fees, card: payingforcare.org 2023).
SELF_FUNDER_FEES = {
    "asc_residential_weeks": "residential_care_week_market",
    "asc_nursing_weeks": "nursing_care_week_market",
}
ACTIVITY_UNITS = {
    "gp_appointments": "appointment",
    "ae_attendances": "attendance",
    "emergency_admissions": "spell",
    "elective_admissions": "spell",
    "outpatient_attendances": "attendance",
    "community_contacts": "contact",
    "mental_health_contacts": "contact",
    "talking_therapies_contacts": "contact",
    "ambulance_conveyances": "incident",
    "asc_home_care_hours": "hour",
    "asc_residential_weeks": "week",
    "asc_nursing_weeks": "week",
    "asc_reablement_episodes": "episode",
}
_SERVICE_ROWS = {
    # generator service -> (utilisation row with an age profile, deprivation ratio row)
    "gp_appointments": ("gp_appointments", "gp_appointments_rate_ratio_Q1_vs_Q5"),
    "ae_attendances": ("ae_attendances", "ae_attendances_rate_ratio_Q1_vs_Q5"),
    "emergency_admissions": ("emergency_admissions", "emergency_admissions_rate_ratio_Q1_vs_Q5"),
    "elective_admissions": ("elective_admissions", "elective_admissions_rate_ratio_Q1_vs_Q5"),
    "outpatient_attendances": (
        "outpatient_attendances",
        "outpatient_attendances_rate_ratio_Q1_vs_Q5",
    ),
    "community_contacts": (
        "district_nursing_contacts",
        "community_nursing_contacts_rate_ratio_Q1_vs_Q5",
    ),
    "mental_health_contacts": ("mh_service_contacts", "mh_service_contacts_rate_ratio_Q1_vs_Q5"),
    # no age profile for ambulance: the emergency admissions profile scaled to the card's rate
    "ambulance_conveyances": ("emergency_admissions", "emergency_admissions_rate_ratio_Q1_vs_Q5"),
}


@cache
def load_parameters(price_year: str = "2024/25") -> Parameters:
    """Read the rates card into :class:`Parameters` (cached: the card never changes in a run)."""
    grad = _card("rates_deprivation")
    util = _card("rates_utilisation")
    asc_rr = quintile_ratios(_value(grad, {"measure": ASC_RR_ROW}, ASC_RR_ROW))
    self_funders = _most_and_least(grad, "care_home_self_funder_share")
    qx, mortality_rr = _mortality(grad)
    prevalence, condition_rr = _conditions(grad)
    service_rate, service_rr = _services(util, grad)
    unit_cost_pence, unit_cost_source = _unit_costs()
    programme, delayed = _programmes()
    return Parameters(
        qx=qx,
        mortality_rr=mortality_rr,
        prevalence=prevalence,
        condition_rr=condition_rr,
        service_rate=service_rate,
        service_rr=service_rr,
        unit_cost_pence=unit_cost_pence,
        unit_cost_source=unit_cost_source,
        programme=programme,
        asc_clients_per_1000={
            band: _value(
                util,
                {"service": "asc_long_term_support_clients", "age_band": band},
                f"ASC {band}",
            )
            for band in ("18-64", "65+")
        },
        self_funder_share_q1_q5=self_funders,
        tt_recovery_most_least=_most_and_least(grad, "talking_therapies_recovery_rate"),
        delayed_discharge_per_person=delayed,
        charging=_charging(price_year),
        asc_rr=asc_rr,
        care_rr_65plus=care_ratios_65plus(asc_rr, self_funder_share_by_quintile(self_funders)),
    )


def _mortality(grad: pd.DataFrame) -> tuple[FloatArray, FloatArray]:
    """England's single-year death probabilities by sex (``qx[sex, age]``) and the all-cause
    mortality rate ratio of each deprivation quintile at each age (``[sex, quintile, age]``:
    the card's ratio, shaped by age)."""
    mort = _card("rates_mortality")
    mort = mort[mort["period"] == MORTALITY_PERIOD]
    qx = np.zeros((2, MAX_LIFE_TABLE_AGE + 1))
    for s, sex in enumerate(("female", "male")):
        rows = mort[mort["sex"] == sex].sort_values("age")
        qx[s, : len(rows)] = rows["qx"].to_numpy()[: MAX_LIFE_TABLE_AGE + 1]
    mortality_rr = np.zeros((2, 5))
    for s, sex in enumerate(("female", "male")):
        for q in range(5):
            mortality_rr[s, q] = _value(
                grad,
                {
                    "measure": "all_cause_mortality_rate_ratio",
                    "sex": sex,
                    "deprivation_unit": "IMD2019 quintile",
                    "deprivation_level": str(q + 1),
                },
                "mortality rate ratio",
            )
    return qx, age_shaped_ratios(qx, mortality_rr)


def _conditions(grad: pd.DataFrame) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """Each condition's prevalence by sex and age band, rescaled to its national QOF register
    over England's ages, and its rate ratio by deprivation quintile."""
    prev = _card("rates_prevalence")
    england = _england_age_structure()
    ages = np.arange(england.size)
    prevalence: dict[str, FloatArray] = {}
    condition_rr: dict[str, FloatArray] = {}
    for condition, (card_name, rr_name) in _CONDITION_ROWS.items():
        table = (
            _hypertension_table(prev)
            if condition == "hypertension"
            else _prevalence_table(prev, card_name)
        )
        rr = _value(grad, {"measure": rr_name}, rr_name)
        condition_rr[condition] = quintile_ratios(rr)
        if condition in _QOF_ROWS:
            qof_name, min_age = _QOF_ROWS[condition]
            where = {"condition": qof_name}
            if qof_name == "depression_register":
                where = {"condition": qof_name, "year": "2022/23"}
            target = _value(prev, where, qof_name) / 100.0
            bands = condition_band(ages.astype(np.int16))
            expected = float(np.sum(england * table.mean(axis=0)[bands]))
            denominator = float(england[ages >= min_age].sum())
            if expected > 0:
                table = np.minimum(table * (target * denominator / expected), 0.95)
        prevalence[condition] = table
    return prevalence, condition_rr


def _services(
    util: pd.DataFrame, grad: pd.DataFrame
) -> tuple[dict[str, FloatArray], dict[str, FloatArray]]:
    """Each service's use per person-year by service age band, and its deprivation ratios."""
    service_rate: dict[str, FloatArray] = {}
    service_rr: dict[str, FloatArray] = {}
    for service, (row, rr_name) in _SERVICE_ROWS.items():
        profile = np.array(
            [
                _value(util, {"service": row, "age_band": band}, f"{row} {band}")
                for band in SERVICE_BANDS
            ]
        )
        service_rate[service] = profile / 1000.0
        service_rr[service] = quintile_ratios(_value(grad, {"measure": rr_name}, rr_name))
    amb = _value(util, {"service": "ambulance_see_and_convey"}, "ambulance")
    em = _value(util, {"service": "emergency_admissions", "age_band": "all"}, "emergency rate")
    service_rate["ambulance_conveyances"] = service_rate["ambulance_conveyances"] * amb / em
    return service_rate, service_rr


def _unit_costs() -> tuple[dict[str, int], dict[str, str]]:
    """Each service's unit cost in pence (and self-funders' care home fees, as
    ``self:<service>``), with where each came from."""
    costs = _card("rates_unit_costs")
    unit_cost_pence: dict[str, int] = {}
    unit_cost_source: dict[str, str] = {}
    items = [(s, item) for s, (item, _) in SERVICE_COSTS.items()]
    items += [(f"self:{s}", item) for s, item in SELF_FUNDER_FEES.items()]
    for key, item in items:
        rows = costs[costs["item"] == item]
        if len(rows) != 1:
            raise ReferenceDataError(f"unit_costs.csv: expected one row for {item}")
        unit_cost_pence[key] = round(float(rows["value"].iloc[0]) * 100)
        unit_cost_source[key] = f"{item} ({rows['price_year'].iloc[0]}): {rows['source'].iloc[0]}"
    return unit_cost_pence, unit_cost_source


def _programmes() -> tuple[dict[str, float], float]:
    """Screening coverage, cancer staging, talking therapies and learning disability health
    checks (as shares), and delayed discharge bed days per person."""
    prog = _card("rates_programmes")

    def programme(indicator: str, year: str | None = None) -> float:
        where = {"indicator": indicator}
        if year is not None:
            where["year"] = year
        return _value(prog, where, indicator)

    values = {
        "stage_1_2_share": programme("cancers_diagnosed_stage_1_2") / 100.0,
        "breast_coverage": programme("breast_screening_coverage_50_70", "2023") / 100.0,
        "cervical_25_49_coverage": programme("cervical_screening_coverage_25_49") / 100.0,
        "cervical_50_64_coverage": programme("cervical_screening_coverage_50_64") / 100.0,
        "bowel_coverage": programme("bowel_screening_coverage_60_74") / 100.0,
        "tt_referrals": programme("talking_therapies_referrals"),
        "tt_completion": programme("talking_therapies_completion_share") / 100.0,
        "ld_health_check": programme("ld_annual_health_check_delivery") / 100.0,
    }
    return values, programme("delayed_discharge_bed_days_per_100k") / 100_000.0


def _most_and_least(grad: pd.DataFrame, measure: str) -> tuple[float, float]:
    """A measure's published percentage in the most and least deprived areas, as shares."""
    return (
        _value(grad, {"measure": measure, "deprivation_level": "most deprived"}, measure) / 100.0,
        _value(grad, {"measure": measure, "deprivation_level": "least deprived"}, measure) / 100.0,
    )
