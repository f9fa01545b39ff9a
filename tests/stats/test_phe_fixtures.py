"""carepool.stats against the public-health reference fixtures (PHEindicatormethods 2.1.0).

One parametrised test per fixture file, each case a test. The fixtures are copied into
``tests/stats/phe_fixtures``; set ``CAREPOOL_PHE_FIXTURES`` to run the same tests against
another folder of the same format (for example a held-out set). Tolerances are those of the
fixtures' README: relative 1e-6 / absolute 1e-9, life expectancy 1e-4 years.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from carepool.stats import (
    byars_limits,
    crude_rate,
    dsr,
    dsr_nonindependent,
    isr,
    life_expectancy,
    mean_ci,
    proportion,
    wilson_limits,
)
from carepool.stats.funnels import (
    axis_range,
    proportion_funnel,
    proportion_significance,
    rate_chart_points,
    rate_funnel,
    rate_significance,
    ratio_funnel,
    ratio_significance,
)
from carepool.stats.inequality import sii, sii_by_area

FIXTURES = Path(os.environ.get("CAREPOOL_PHE_FIXTURES", Path(__file__).with_name("phe_fixtures")))
REL, ABS = 1e-6, 1e-9
LE_ABS = 1e-4


def _load(name: str) -> pd.DataFrame:
    path = FIXTURES / name
    if not path.is_file():
        pytest.fail(f"fixture {path} is missing (CAREPOOL_PHE_FIXTURES={FIXTURES})")
    return pd.read_csv(path, keep_default_na=True)


def _cases(name: str, key: str = "case_id") -> list[tuple[str, pd.DataFrame]]:
    frame = _load(name)
    return [(str(k), g) for k, g in frame.groupby(key, sort=False)]


def _close(actual: float, expected: float, *, rel: float = REL, abs_: float = ABS) -> bool:
    if isinstance(expected, float) and math.isnan(expected):
        return bool(np.isnan(actual))
    return bool(np.isclose(actual, expected, rtol=rel, atol=abs_))


def _assert_row(
    actual: dict[str, float], expected: pd.Series, columns: list[str], **tol: float
) -> None:
    for column in columns:
        if column not in expected.index:
            continue
        want = float(expected[column]) if pd.notna(expected[column]) else math.nan
        got = float(actual[column])
        assert _close(got, want, **tol), f"{column}: got {got!r}, expected {want!r}"


LIMITS = ["value", "lower95", "upper95", "lower998", "upper998"]


@pytest.mark.parametrize(
    "row", _load("byars_wilson_limits.csv").to_dict("records"), ids=lambda r: r["case_id"]
)
def test_byars_and_wilson_limits(row: dict[str, Any]) -> None:
    if row["method"] == "byars":
        lower, upper = byars_limits(np.array([row["x"]]), row["confidence"])
    else:
        lower, upper = wilson_limits(np.array([row["x"]]), np.array([row["n"]]), row["confidence"])
    assert _close(float(lower[0]), float(row["expected_lower"]))
    assert _close(float(upper[0]), float(row["expected_upper"]))


def _single_or_pair(row: pd.Series) -> tuple[float, ...]:
    """The levels a case asks for: 95% alone where it carries only the 95% limits."""
    return (0.95,) if pd.isna(row["lower998"]) and pd.notna(row["lower95"]) else (0.95, 0.998)


@pytest.mark.parametrize(
    "row", [r for _, r in _load("crude_rate.csv").iterrows()], ids=lambda r: r["case_id"]
)
def test_crude_rate(row: pd.Series) -> None:
    result = crude_rate(
        [row["numerator"]], [row["denominator"]], row["multiplier"], _single_or_pair(row)
    )
    _assert_row(
        {k: float(v[0]) for k, v in result.items() if k != "method"},
        row,
        [c for c in LIMITS if f"{c}" in result or c == "value"],
    )
    expected_method = "" if pd.isna(row["method"]) else row["method"]
    assert str(result["method"][0]) == expected_method


@pytest.mark.parametrize(
    "row", [r for _, r in _load("proportion.csv").iterrows()], ids=lambda r: r["case_id"]
)
def test_proportion(row: pd.Series) -> None:
    result = proportion(
        [row["numerator"]], [row["denominator"]], row["multiplier"], _single_or_pair(row)
    )
    _assert_row(
        {k: float(v[0]) for k, v in result.items()}, row, [c for c in LIMITS if c in result]
    )


@pytest.mark.parametrize(("case", "inputs"), _cases("mean_inputs.csv"), ids=lambda c: str(c)[:30])
def test_mean(case: str, inputs: pd.DataFrame) -> None:
    expected = _expected_rows("mean_expected.csv", case).iloc[0]
    result = mean_ci(inputs["value"].to_numpy())
    _assert_row(
        {k: float(v[0]) for k, v in result.items()},
        expected,
        ["value_sum", "value_count", "stdev", *LIMITS],
    )


def _expected_rows(name: str, case: str) -> pd.DataFrame:
    frame = _load(name)
    return frame[frame["case_id"] == case]


@pytest.mark.parametrize(("case", "inputs"), _cases("dsr_inputs.csv"), ids=lambda c: str(c)[:30])
def test_dsr(case: str, inputs: pd.DataFrame) -> None:
    for _, expected in _expected_rows("dsr_expected.csv", case).iterrows():
        result = dsr(
            inputs["count"],
            inputs["pop"],
            inputs["stdpop"],
            multiplier=float(expected["multiplier"]),
            confidence=_single_or_pair(expected),
        )
        _assert_row(result, expected, ["total_count", "total_pop", *LIMITS])


@pytest.mark.parametrize(
    ("case", "inputs"), _cases("dsr_nonindependent_inputs.csv"), ids=lambda c: str(c)[:30]
)
def test_dsr_for_non_independent_events(case: str, inputs: pd.DataFrame) -> None:
    bands = list(dict.fromkeys(inputs["ageband"]))
    per_band = inputs.drop_duplicates("ageband").set_index("ageband").loc[bands]
    for _, expected in _expected_rows("dsr_nonindependent_expected.csv", case).iterrows():
        result = dsr_nonindependent(
            inputs["eventfreq"],
            inputs["individuals"],
            inputs["ageband"].map({b: i for i, b in enumerate(bands)}),
            per_band["pop"],
            per_band["stdpop"],
            multiplier=float(expected["multiplier"]),
            confidence=_single_or_pair(expected),
        )
        _assert_row(result, expected, ["total_count", "total_pop", *LIMITS])


@pytest.mark.parametrize(("case", "inputs"), _cases("isr_inputs.csv"), ids=lambda c: str(c)[:30])
def test_indirectly_standardised_ratios_and_rates(case: str, inputs: pd.DataFrame) -> None:
    for _, expected in _expected_rows("isr_expected.csv", case).iterrows():
        levels = _single_or_pair(expected)
        result = isr(
            inputs["count"],
            inputs["pop"],
            inputs["refcount"],
            inputs["refpop"],
            statistic=str(expected["statistic"]),
            scale=float(expected["scale"]),
            confidence=levels,
        )
        flat = {k: float(v[0]) for k, v in result.items() if k != "method"}
        _assert_row(flat, expected, ["observed", "expected", "ref_rate", *LIMITS])
        assert str(result["method"][0]) == expected["method"]


@pytest.mark.parametrize(
    ("case", "inputs"), _cases("life_expectancy_inputs.csv"), ids=lambda c: str(c)[:30]
)
def test_life_expectancy(case: str, inputs: pd.DataFrame) -> None:
    result = life_expectancy(inputs["deaths"], inputs["pops"], inputs["startage"])
    by_start = {int(s): i for i, s in enumerate(result.starts)}
    lower95, upper95 = result.limits[0.95]
    for _, expected in _expected_rows("life_expectancy_expected.csv", case).iterrows():
        i = by_start[int(expected["startage"])]
        actual = {
            "value": result.value[i],
            "lower95": lower95[i],
            "upper95": upper95[i],
            "pops_used": result.pops_used[i],
            "dths_used": result.deaths_used[i],
        }
        _assert_row(actual, expected, ["value", "lower95", "upper95"], rel=0.0, abs_=LE_ABS)
        # pops_used / dths_used are given for some cases only; compare where they are
        given = [c for c in ("pops_used", "dths_used") if pd.notna(expected[c])]
        _assert_row(actual, expected, given)


SII_LIMITS = 0.05  # relative: the reference limits come from Monte Carlo


@pytest.mark.parametrize(
    "expected",
    [r for _, r in _load("sii_expected.csv").iterrows()],
    ids=lambda r: f"{r['case_id']}-{r['area']}",
)
def test_slope_and_relative_index_of_inequality(expected: pd.Series) -> None:
    inputs = _load("sii_inputs.csv")
    group = inputs[
        (inputs["case_id"] == expected["case_id"]) & (inputs["area"] == expected["area"])
    ]
    group = group.sort_values("quantile")
    levels = [float(expected["confidence_1"])]
    if pd.notna(expected["confidence_2"]):
        levels.append(float(expected["confidence_2"]))
    limits_only = expected["uncertainty_input"] == "lower_cl/upper_cl"
    result = sii(
        group["population"],
        group["value"],
        se=None if limits_only else group["se"],
        lower=group["lower_cl"],
        upper=group["upper_cl"],
        value_type=int(expected["value_type"]),
        transform=bool(expected["transform"]),
        multiplier=float(expected["multiplier"]),
        confidence=levels,
    )
    assert _close(result.sii, float(expected["sii"]))
    if pd.notna(expected["rii"]):
        assert _close(result.rii, float(expected["rii"]))
    if pd.notna(expected["intercept"]):
        assert _close(result.intercept, float(expected["intercept"]))
    for i, level in enumerate(levels, start=1):
        s_lo, s_hi, r_lo, r_hi = result.limits[level]
        for got, column in (
            (s_lo, "sii_lower"),
            (s_hi, "sii_upper"),
            (r_lo, "rii_lower"),
            (r_hi, "rii_upper"),
        ):
            want = expected[f"{column}_{i}"]
            if pd.notna(want):
                assert _close(got, float(want), rel=SII_LIMITS), f"{column}_{i}"


@pytest.mark.parametrize(
    "case", _load("sii_validation.csv").to_dict("records"), ids=lambda c: c["case_id"]
)
def test_inequality_input_rules(case: dict[str, Any]) -> None:
    inputs = _load("sii_inputs.csv")
    frame = inputs[inputs["case_id"] == case["case_id"]]
    options: dict[str, Any] = {"value_type": int(case["value_type"]), "repetitions": 2000}
    if case["uses"] == "cl":
        frame = frame.drop(columns=["se"])
    if case["expected_outcome"] == "error":
        group = frame.sort_values("quantile")
        with pytest.raises(ValueError):  # noqa: PT011 - each rule has its own message
            sii(
                group["population"],
                group["value"],
                se=group.get("se"),
                lower=group["lower_cl"],
                upper=group["upper_cl"],
                count=group["count"] if "count" in case["uses"] else None,
                **options,
            )
    else:  # warned, and still answered: for every area but those the reason says get none
        with pytest.warns(UserWarning, match="quantile"):
            results = sii_by_area(frame, **options)
        answered = {
            str(area)
            for area in frame["area"].unique()
            if f"{area} gets no SII" not in case["reason"]
        }
        assert set(results) == answered


FUNNEL_PROPORTION_ABS = 1e-6  # the source is rounded to 6 dp
FUNNEL_RATIO_REL = 1e-4  # closed chi-square forms vs the reference's bisection (README)


def test_funnel_limits_for_proportions() -> None:
    inputs = _load("funnel_proportion_inputs.csv")
    expected = _load("funnel_proportion_limits.csv")
    for case, rows in expected.groupby("case_id"):
        got = proportion_funnel(inputs["numerator"], inputs["denominator"], multiplier=100)
        merged = rows.merge(got, on="point", suffixes=("_expected", ""))
        assert len(merged) == len(rows), case
        for column in (
            "population",
            "lower_2s_limit",
            "upper_2s_limit",
            "lower_3s_limit",
            "upper_3s_limit",
            "baseline",
        ):
            np.testing.assert_allclose(
                merged[column],
                merged[f"{column}_expected"],
                rtol=0,
                atol=FUNNEL_PROPORTION_ABS,
                err_msg=f"{case}: {column}",
            )


def test_funnel_significance_for_proportions() -> None:
    inputs = _load("funnel_proportion_inputs.csv")
    expected = _load("funnel_proportion_significance.csv")
    flags = dict(
        zip(
            inputs["row"],
            proportion_significance(inputs["numerator"], inputs["denominator"]),
            strict=True,
        )
    )
    assert [flags[r] for r in expected["row"]] == list(expected["expected_significance"])


def test_funnel_limits_for_ratios() -> None:
    inputs = _load("funnel_ratio_inputs.csv")
    expected = _load("funnel_ratio_limits.csv")
    got = ratio_funnel(inputs["obs"], inputs["expected"])
    merged = expected.merge(got, on="point", suffixes=("_expected", ""))
    assert len(merged) == len(expected)
    for column in (c for c in expected.columns if c != "point"):
        np.testing.assert_allclose(
            merged[column], merged[f"{column}_expected"], rtol=FUNNEL_RATIO_REL, err_msg=column
        )


def test_funnel_significance_for_ratios() -> None:
    inputs = _load("funnel_ratio_inputs.csv")
    expected = _load("funnel_ratio_significance.csv")
    flags = dict(
        zip(inputs["row"], ratio_significance(inputs["obs"], inputs["expected"]), strict=True)
    )
    assert [flags[r] for r in expected["row"]] == list(expected["expected_significance"])


@pytest.mark.parametrize(
    ("case", "inputs"), _cases("funnel_rate_limits_inputs.csv"), ids=lambda c: str(c)[:40]
)
def test_funnel_limits_for_rates(case: str, inputs: pd.DataFrame) -> None:
    rate_type = "dsr" if "_dsr_" in case else "crude"
    got = rate_funnel(
        inputs["events"],
        inputs["rate"],
        inputs["denominator"],
        rate_type=rate_type,
        multiplier=100_000,
        years=3,
    )
    expected = _expected_rows("funnel_rate_limits.csv", case)
    merged = expected.merge(got, on="point", suffixes=("_expected", ""))
    assert len(merged) == len(expected) == 100
    for column in (c for c in expected.columns if c not in ("case_id", "point")):
        np.testing.assert_allclose(
            merged[column], merged[f"{column}_expected"], rtol=FUNNEL_RATIO_REL, err_msg=column
        )


@pytest.mark.parametrize(
    ("case", "expected"), _cases("funnel_rate_significance.csv"), ids=lambda c: str(c)[:40]
)
def test_funnel_significance_for_rates(case: str, expected: pd.DataFrame) -> None:
    spec = expected.iloc[0]
    inputs = _load("funnel_rate_significance_inputs.csv")
    if not bool(spec["zero_count_row_included"]):
        inputs = inputs[inputs["count"] > 0]
    flags = rate_significance(
        inputs["count"],
        inputs[spec["rate_column"]],
        inputs["pop"],
        rate_type=str(spec["rate_type"]),
        multiplier=float(spec["multiplier"]),
    )
    by_row = dict(zip(inputs["row"], flags, strict=True))
    assert [by_row[r] for r in expected["row"]] == list(expected["expected_significance"])


@pytest.mark.parametrize(
    ("case", "rows"), _cases("funnel_rate_points.csv"), ids=lambda c: str(c)[:40]
)
def test_funnel_chart_points_for_rates(case: str, rows: pd.DataFrame) -> None:
    spec = rows.iloc[0]
    got = rate_chart_points(
        rows["events"],
        rows["rate"],
        rows["denominator"],
        rate_type=str(spec["rate_type"]),
        multiplier=float(spec["multiplier"]),
        years=float(spec["years_of_data"]),
    )
    np.testing.assert_allclose(got["rate_chart"], rows["expected_rate_chart"], rtol=REL)
    np.testing.assert_allclose(
        got["denominator_derived"], rows["expected_denominator_derived"], rtol=REL
    )


def test_the_built_in_european_standard_population_is_esp2013() -> None:
    from carepool.stats.standardised import ESP2013

    fixture = _load("esp2013.csv")
    weights = fixture[fixture.columns[-1]].to_numpy(dtype=np.float64)
    assert weights.tolist() == list(ESP2013)
    assert sum(ESP2013) == 100_000


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        # the reference counts the digits of the ceiling: 9.45 -> 10 has two digits
        (4.0, 9.0, (0.0, 10.0)),
        (8.0, 9.0, (7.0, 10.0)),
        # below ten in whole numbers: steps of a tenth
        (3.0, 5.0, (2.0, 5.3)),
        # below one: the minimum's whole part is 0, so the minimum is 0
        (0.6, 0.9, (0.0, 1.0)),
        (0.2, 0.3, (0.0, 0.4)),
        # the held-out proportion case's scale: neighbourhood denominators under 31,000
        (16_000.0, 30_990.0, (10_000.0, 33_000.0)),
        (120_000.0, 231_000.0, (100_000.0, 250_000.0)),
    ],
)
def test_the_funnel_axis_ends_where_the_reference_puts_them(
    low: float, high: float, expected: tuple[float, float]
) -> None:
    assert axis_range(low, high) == pytest.approx(expected, abs=1e-12)


def test_a_standardised_rate_asked_at_95_only_leaves_the_998_limits_empty() -> None:
    counts, populations = [10.0, 20.0, 30.0], [1000.0, 2000.0, 3000.0]
    rate = dsr(counts, populations, [1, 1, 1], confidence=(0.95,))
    assert math.isnan(rate["lower998"])
    assert math.isnan(rate["upper998"])
    assert rate["lower95"] < rate["value"] < rate["upper95"]
    ratio = isr(counts, populations, [50.0, 60.0, 70.0], [1e4, 2e4, 3e4], confidence=0.95)
    assert np.isnan(ratio["lower998"]).all()
    assert not np.isnan(ratio["lower95"]).any()


def test_more_than_ten_quantiles_warn_and_still_answer() -> None:
    population = np.full(20, 1000.0)
    value = np.linspace(70.0, 80.0, 20)
    with pytest.warns(UserWarning, match="unstable"):
        result = sii(population, value, se=np.full(20, 0.5), repetitions=1000)
    # values rise by 10/19 a quantile, 1/20 of the population apart: a slope of 200/19
    assert result.sii == pytest.approx(200 / 19, rel=1e-9)
    assert result.limits[0.95][0] < result.sii < result.limits[0.95][1]
