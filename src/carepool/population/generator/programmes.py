"""A year's programmes: talking therapies, cancer screening and diagnosis, and learning
disability health checks, each from its own stream."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from carepool.population.generator.health import Registers
from carepool.population.generator.individual_risk import (
    BoolArray,
    FloatArray,
    IntArray,
    normalise_within,
)
from carepool.population.generator.year import Year
from carepool.population.parameters import (
    ADULT_POPULATION_ENGLAND_2023,
    CANCER_INCIDENCE_PER_PREVALENCE,
    SCREENING_QUINTILE_FACTOR,
    STAGE_EARLY_QUINTILE_SHIFT,
    STAGE_EARLY_SCREENED_UPLIFT,
    TT_CONTACTS_COMPLETED,
    TT_CONTACTS_NOT_COMPLETED,
    TT_REFERRAL_DEPRESSION_WEIGHT,
)


@dataclass(frozen=True)
class TalkingTherapies:
    referred: BoolArray
    contacts: IntArray
    recovered: np.ma.MaskedArray  # masked for those who did not complete a course


def talking_therapies(year: Year, registers: Registers, exposure: FloatArray) -> TalkingTherapies:
    """Referrals (adults; more with depression), completion, contacts and recovery, which
    falls with deprivation (stream ``talking_therapies``)."""
    params, n, q = year.params, year.n, year.q
    tt_rng = year.rng("talking_therapies")
    adult = year.age >= 18
    tt_weight = normalise_within(
        1.0 + TT_REFERRAL_DEPRESSION_WEIGHT * registers.has("depression").astype(np.float64),
        adult.astype(np.int64),
        adult,
    )
    base_referral = params.programme["tt_referrals"] / ADULT_POPULATION_ENGLAND_2023
    referred = adult & (tt_rng.random(n) < base_referral * tt_weight * exposure)
    completed = referred & (tt_rng.random(n) < params.programme["tt_completion"])
    contacts = np.where(
        referred,
        tt_rng.poisson(np.where(completed, TT_CONTACTS_COMPLETED, TT_CONTACTS_NOT_COMPLETED)),
        0,
    )
    most, least = params.tt_recovery_most_least
    recovery = most + (least - most) * q / 4.0
    recovered = np.ma.array(tt_rng.random(n) < recovery, mask=~completed)
    return TalkingTherapies(referred, contacts, recovered)


@dataclass(frozen=True)
class Screening:
    """Who is eligible for and covered by each screening programme, and new cancers."""

    breast_eligible: BoolArray
    breast_covered: BoolArray
    cervical_eligible: BoolArray
    cervical_covered: BoolArray
    bowel_eligible: BoolArray
    bowel_covered: BoolArray
    cancer_diagnosed: BoolArray
    cancer_stage: np.ma.MaskedArray  # 1 to 4; masked where no cancer was diagnosed


def screening_and_cancer(year: Year, registers: Registers, exposure: FloatArray) -> Screening:
    """Screening coverage (the person's fixed draw against coverage, lower where more
    deprived), then new cancers and their stage, earlier for the screened (stream
    ``cancer``)."""
    params, q, age, n = year.params, year.q, year.age, year.n
    female = year.sex == 0
    factor = SCREENING_QUINTILE_FACTOR / SCREENING_QUINTILE_FACTOR.mean()
    su = year.cohort.screen_u[year.rows]
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
    cancer_rng = year.rng("cancer")
    incidence = (
        params.prevalence["cancer"][year.sex, year.cband]
        * CANCER_INCIDENCE_PER_PREVALENCE
        * params.condition_rr["cancer"][q]
        * exposure
    )
    diagnosed = ~registers.has("cancer") & (cancer_rng.random(n) < incidence)
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
    return Screening(
        breast_eligible=breast_el,
        breast_covered=breast_cov,
        cervical_eligible=cerv_el,
        cervical_covered=cerv_cov_b,
        bowel_eligible=bowel_el,
        bowel_covered=bowel_cov,
        cancer_diagnosed=diagnosed,
        cancer_stage=np.ma.array(stage.astype(np.int8), mask=~diagnosed),
    )


def ld_health_checks(year: Year, registers: Registers) -> npt.NDArray[np.bool_]:
    """Annual health checks for people aged 14+ on the learning disability register (stream
    ``ld_checks``); masked for everyone else."""
    ld_eligible = registers.has("learning_disability") & (year.age >= 14)
    checked: npt.NDArray[np.bool_] = np.ma.array(
        year.rng("ld_checks").random(year.n) < year.params.programme["ld_health_check"],
        mask=~ld_eligible,
    )
    return checked
