"""What `carepool validate` compares with (published figures only, never recalled ones), and
the calibrations that borough validation led to."""

from __future__ import annotations

import numpy as np
import pytest

from carepool.population import load_parameters
from carepool.population.calibration import (
    area_prevalence_multipliers,
    published_local_prevalence,
)
from carepool.population.fit import FittedAuthority
from carepool.population.mortality_gradient import period_life_expectancy
from carepool.population.parameters import condition_band
from carepool.population.validation import PREVALENCE_CHECKS, recalled, said_recalled
from carepool.reference import read_reference
from carepool.warehouse import CONDITIONS


def test_figures_the_rates_card_says_were_recalled_are_not_checked() -> None:
    # the national QOF registers and the emergency admission rate seed the model, but were
    # recalled rather than read: validating against them would prove nothing
    for _, card_row, _ in PREVALENCE_CHECKS:
        assert recalled("rates_prevalence", {"condition": card_row}), card_row
    assert recalled("rates_utilisation", {"service": "emergency_admissions", "age_band": "all"})
    # published figures are checked, estimated or not
    assert not recalled(
        "rates_utilisation",
        {
            "service": "care_home_self_funder_share",
            "year": "Mar 2022-Feb 2023",
            "population": "England",
        },
    )


def test_each_boroughs_depression_register_is_calibrated_to_its_published_prevalence() -> None:
    params = load_parameters()
    rng = np.random.default_rng(3)
    published = published_local_prevalence("depression_QOF_prevalence_18plus", "2022/23")
    lsoas = tuple(f"L{i}" for i in range(6))
    quintiles = {code: 1 + i % 5 for i, code in enumerate(lsoas)}
    authorities = [
        FittedAuthority(code, lsoas, rng.integers(0, 40, size=(6, 91, 2)))
        for code in ("E08000003", "E08000005", "E06000001")
    ]
    multipliers = area_prevalence_multipliers(authorities, quintiles, params, CONDITIONS)
    j = CONDITIONS.index("depression")
    ages = np.arange(91, dtype=np.int16)
    rates = params.prevalence["depression"][:, condition_band(ages)]
    ratios = params.condition_rr["depression"]
    for authority in authorities[:2]:
        k = multipliers[authority.lad_code]
        assert np.all(np.delete(k, j) == 1.0)  # only depression is calibrated locally
        adults = authority.counts[:, 18:, :]
        q = np.array([quintiles[c] - 1 for c in lsoas])
        p = k[j] * ratios[q][:, None, None] * rates[:, 18:].T[None, :, :]
        assert (adults * p).sum() / adults.sum() == pytest.approx(
            published[authority.lad_code], rel=1e-6
        )
    # Rochdale records far more depression than Manchester, against deprivation
    assert multipliers["E08000005"][j] > multipliers["E08000003"][j]
    # an authority without a published figure keeps the national register
    assert np.all(multipliers["E06000001"] == 1.0)


def test_the_mortality_gradient_is_steepest_in_mid_life_and_keeps_life_expectancy() -> None:
    params = load_parameters()
    for s in (0, 1):
        flat = {
            q: period_life_expectancy(1.0 - np.power(1.0 - params.qx[s], ratio))
            for q, ratio in enumerate(flat_ratios()[s])
        }
        for q in range(5):
            shaped = 1.0 - np.power(1.0 - params.qx[s], params.mortality_rr[s, q])
            assert period_life_expectancy(shaped) == pytest.approx(flat[q], abs=1e-6)
        most, least = params.mortality_rr[s, 0], params.mortality_rr[s, 4]
        # the most deprived fifth's excess risk is largest in mid-life and narrows with age
        assert most[50] / least[50] > most[70] / least[70] > most[90] / least[90] > 1.0


def flat_ratios() -> np.ndarray:
    """The card's ratios by sex and quintile, before shaping by age."""
    grad = read_reference("rates_deprivation").to_pandas()
    rows = grad[
        (grad["measure"] == "all_cause_mortality_rate_ratio")
        & (grad["deprivation_unit"] == "IMD2019 quintile")
    ]
    out = np.zeros((2, 5))
    for s, sex in enumerate(("female", "male")):
        of_sex = rows[rows["sex"] == sex].sort_values("deprivation_level")
        out[s] = of_sex["value"].astype(float).to_numpy()
    return out


def test_only_a_note_that_says_recalled_marks_a_figure_recalled() -> None:
    assert said_recalled("values recalled, not re-read in this session")
    assert said_recalled("Recalled, unverified")
    assert not said_recalled("not recalled: read from the table")
    assert not said_recalled("unrecalledish")
    assert not said_recalled("read from the published table")
