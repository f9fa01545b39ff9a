"""Borough-by-borough validation: tolerances that know the sample, and the boroughs' order."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from carepool.cli import app
from carepool.geography import english_region_of, lsoa_lookup
from carepool.indicators import Z95
from carepool.model.boroughs import (
    INDEPENDENT,
    LE_PERIOD,
    SII_PERIOD,
    U75_PERIOD,
    BoroughCheck,
    _bridges,
    _published,
    published_error,
)
from carepool.model.need_index import jackknife_se, need_index_checks, published_core_index
from carepool.model.orders import MIN_RANK_CORRELATION, rank_check
from carepool.model.premature_mortality import preventable_elasticity
from carepool.warehouse import connect

runner = CliRunner()


def _check(code: str, model: float | None, published: float, se: float | None) -> BoroughCheck:
    return BoroughCheck(
        "x", code, code, model, se, published, 1.0, "years", "2022 - 24", "test", INDEPENDENT
    )


def test_the_pass_band_adds_the_models_sampling_error_to_the_structural_tolerance() -> None:
    check = _check("A", 80.0, 77.5, se=1.0)
    assert check.tolerance == pytest.approx(1.0 + Z95)
    assert check.ok  # 2.5 years off: within 1 + 1.96, on noise alone
    assert not _check("A", 80.0, 77.5, se=0.1).ok  # at full scale, the same gap fails
    assert _check("A", None, 77.5, se=None).ok is None  # not estimable: neither


def test_the_order_must_reach_0_7_unless_noise_alone_could_not() -> None:
    published = [70.0, 72.0, 74.0, 76.0, 78.0, 80.0]
    reversed_model = [
        _check(str(i), m, p, 0.01)
        for i, (m, p) in enumerate(zip(published[::-1], published, strict=True))
    ]
    exact = rank_check("x", INDEPENDENT, reversed_model)
    assert exact is not None
    assert exact.rho == pytest.approx(-1.0)
    assert exact.required == MIN_RANK_CORRELATION
    assert exact.ok is False
    noisy = [_check(str(i), p + 0.5, p, 20.0) for i, p in enumerate(published)]
    floor = rank_check("x", INDEPENDENT, noisy)
    assert floor is not None
    # sampling error this large scrambles even a perfect model: untestable, not passed
    assert floor.noise_floor < 0.3
    assert floor.ok is None
    assert rank_check("x", INDEPENDENT, noisy[:4]) is None  # too few boroughs to rank


def test_the_same_figure_for_every_borough_is_no_order() -> None:
    published = [70.0, 72.0, 74.0, 76.0, 78.0]
    flat = rank_check(
        "x", INDEPENDENT, [_check(str(i), 0.0, p, 0.0) for i, p in enumerate(published)]
    )
    assert flat is not None
    assert flat.rho == 0.0
    assert flat.ok is False
    assert json.dumps(flat.as_dict(), allow_nan=False)
    same = [_check(str(i), float(i), 5.0, 0.0) for i in range(5)]
    assert rank_check("x", INDEPENDENT, same) is None  # no published order to follow


def test_nhs_englands_index_is_put_relative_to_the_boroughs_modelled() -> None:
    whole = published_core_index([f"E080000{i:02d}" for i in range(1, 11)])
    # Greater Manchester's own index is 1.055 (2025/26): Tameside's 1.122 over it
    assert whole["E08000008"] == pytest.approx(1.122 / 1.055, abs=0.002)
    pair = published_core_index(["E08000003", "E08000009"])
    assert set(pair) == {"E08000003", "E08000009"}
    # weighted by registered patients (2025/26 lists), the pair averages 1
    lists = {"E08000003": 744_987, "E08000009": 251_069}
    average = sum(pair[c] * n for c, n in lists.items()) / sum(lists.values())
    assert average == pytest.approx(1.0, abs=1e-9)
    assert pair["E08000009"] < 1 < pair["E08000003"]
    assert published_core_index(["E06000001"]) == {}


def test_validate_by_borough_as_json(
    small_warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAREPOOL_DATA_DIR", str(small_warehouse.parent))
    monkeypatch.delenv("CAREPOOL_ENGINE", raising=False)
    result = runner.invoke(app, ["validate", "--level", "lad", "--json"])
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["ok"] else 1), result.output
    checks = report["checks"]
    assert {c["area_code"] for c in checks} == {"E08000003", "E08000009"}
    assert {c["check"] for c in checks} >= {
        "life_expectancy_male",
        "life_expectancy_sii_female",
        "u75_mortality_vs_england",
        "depression_prevalence_18plus",
        "care_home_admissions_65plus",
        "need_per_head_vs_nhs_core_index",
    }
    need = {c["area_code"]: c for c in checks if c["check"] == "need_per_head_vs_nhs_core_index"}
    # relative to the two boroughs modelled, as the model's need index is
    expected = published_core_index(["E08000003", "E08000009"])
    assert need["E08000009"]["published"] == pytest.approx(expected["E08000009"], abs=1e-4)
    assert need["E08000009"]["model"] < need["E08000003"]["model"]
    assert report["counts"]["independent"] > report["counts"]["calibrated"]
    for c in checks:
        assert c["basis"] in ("calibrated", "independent")
        sampling = 0.0 if c["sampling_se"] is None else c["sampling_se"]
        published = 0.0 if c["published_se"] is None else c["published_se"]
        band = c["structural"] + Z95 * math.hypot(sampling, published)
        assert c["tolerance"] == pytest.approx(band, abs=1e-3)
        if c["model"] is not None:  # the need index's error comes from the jackknife
            assert sampling > 0, c["check"]
        if c["model"] is None:
            assert c["ok"] is None
        else:
            assert c["ok"] == (abs(c["model"] - c["published"]) <= c["tolerance"] + 1e-3)
    table = runner.invoke(app, ["validate", "--level", "lad"])
    assert "Each borough against its published figures" in table.stdout
    assert "Trafford" in table.stdout
    bad = runner.invoke(app, ["validate", "--level", "ward"])
    assert bad.exit_code == 2
    ranked = {r["check"] for r in report["ranks"]}
    assert report["counts"]["measures"] == len({c["check"] for c in checks} | ranked)
    # the method's order of inequality is tested where it can be: across England
    england = {r["check"]: r for r in report["ranks"] if r["check"].endswith("_across_england")}
    assert set(england) == {
        "life_expectancy_sii_male_across_england",
        "life_expectancy_sii_female_across_england",
    }
    assert all(r["boroughs"] >= 280 and r["ok"] for r in england.values())


def test_one_borough_has_no_need_index_check_to_make(small_warehouse: Path) -> None:
    """Relative to the boroughs modelled, a lone borough's index is 1 in the model and in NHS
    England's figures alike: a check that could not fail is not made."""
    with connect(warehouse_dir=small_warehouse) as warehouse:
        assert need_index_checks(warehouse, {"E08000009": "Trafford"}) == []
        pair = need_index_checks(warehouse, {"E08000003": "Manchester", "E08000009": "Trafford"})
    assert {c.area_code for c in pair} == {"E08000003", "E08000009"}
    # the jackknife's error: positive, and small beside the structural tolerance
    for check in pair:
        assert check.sampling_se is not None
        assert 0 < check.sampling_se < check.structural
        assert check.published_se is None  # NHS England's index is not a sample of these people


def test_the_jackknife_error_is_the_spread_of_the_replicates() -> None:
    replicates = [
        pd.DataFrame({"place": ["A", "B"], "need_index": [1.0 + d, 1.0 - d]})
        for d in (0.01, -0.01, 0.03, -0.03)
    ]
    se = jackknife_se(replicates)
    # (G - 1)/G · Σ (θ₋g − θ̄)² = 3/4 · (2·0.01² + 2·0.03²) = 0.0015
    assert se["A"] == pytest.approx(math.sqrt(0.0015))
    assert se["B"] == pytest.approx(se["A"])
    assert jackknife_se(replicates[:1]) == {}


def test_the_published_figure_brings_its_own_sampling_error() -> None:
    sii = replace(_check("A", 8.0, 11.0, se=1.0), check="life_expectancy_sii_male")
    depression = replace(_check("A", 12.0, 13.0, se=0.1), check="depression_prevalence_18plus")
    full, tenth = published_error([sii, depression], 1.0, 2), published_error([sii], 0.1, 2)
    # a full model pooling two years counts two thirds of the events of a three-year figure
    assert full[0].published_se == pytest.approx(math.sqrt(2 / 3))
    assert full[0].tolerance == pytest.approx(1.0 + Z95 * math.sqrt(1 + 2 / 3))
    assert tenth[0].published_se == pytest.approx(math.sqrt(0.2 / 3))
    # a register's count is not a sample: its figure brings no error
    assert full[1].published_se is None
    assert full[1].tolerance == pytest.approx(1.0 + Z95 * 0.1)


def test_noise_in_the_published_figures_lowers_the_bar_for_their_order() -> None:
    published = [8.7, 9.1, 9.5, 9.9, 10.3, 10.7, 11.1, 11.5, 11.9, 12.3]
    model_only = [_check(str(i), p, p, 0.3) for i, p in enumerate(published)]
    both = [replace(c, published_se=0.6) for c in model_only]
    alone, together = rank_check("x", INDEPENDENT, model_only), rank_check("x", INDEPENDENT, both)
    assert alone is not None
    assert together is not None
    assert together.noise_floor < alone.noise_floor


def test_premature_mortality_for_england_is_bridged_outside_each_councils_own_region() -> None:
    """A region of all England leaves no authority outside it to fit the bridge on: each
    council's is fitted outside its own English region, so no council's published figure
    enters the bridge it is checked with."""
    lookup = lsoa_lookup().drop_duplicates("lad24_code")
    names = dict(zip(lookup["lad24_code"], lookup["lad24_name"], strict=True))
    assert len(names) == 296
    bridges = _bridges(names)
    manchester, outside = bridges["E08000003"]
    assert outside == "North West"
    north_west = english_region_of("E08000003")
    assert north_west is not None
    assert manchester == preventable_elasticity(frozenset(north_west.lad_codes))
    assert manchester.authorities < 296 - len(north_west.lad_codes) + 1
    # Cornwall's is fitted outside the South West, on other authorities
    cornwall, where = bridges["E06000052"]
    assert where == "South West"
    assert cornwall.authorities != manchester.authorities
    assert 1.0 < manchester.beta < 2.0


def test_every_english_councils_published_figures_are_read() -> None:
    le = _published("life_expectancy_at_birth", "male", LE_PERIOD)
    sii = _published("slope_index_of_inequality_life_expectancy", "female", SII_PERIOD)
    u75 = _published("under75_mortality_preventable", "persons", U75_PERIOD)
    for frame in (le, sii, u75):
        assert frame["area_code"].nunique() > 280
        assert {"E06000052", "E08000003"} <= set(frame["area_code"])
