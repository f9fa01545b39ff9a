"""The formula specification: the default parses, and every fault names its file and field."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from carepool.ages import FIVE_YEAR
from carepool.allocation import load_formula, parse_formula
from carepool.allocation.formula import DEFAULT_FORMULA, parse_ages
from carepool.allocation.variables import SERVICES
from carepool.errors import AllocationError

MINIMAL = """
[formula]
id = "test"
version = "1"

[[component]]
id = "acute"
share = 0.6
services = ["emergency_admissions"]
need = [{ variable = "health_score", weight = 0.2 }]

[[component]]
id = "care"
share = 0.4
cost_curve = [{ ages = "65+", weight = 3.0 }, { ages = "0-64", weight = 1.0 }]
"""


def test_the_default_formula_parses_and_its_shares_sum_to_one() -> None:
    formula = load_formula()
    assert formula.id == "carepool-default"
    assert math.isclose(sum(c.share for c in formula.components), 1.0)
    assert DEFAULT_FORMULA in formula.path
    assert len(formula.digest) == 16
    assert {"acute", "adult_social_care", "public_health"} <= {c.id for c in formula.components}


def test_a_minimal_formula_takes_defaults() -> None:
    formula = parse_formula(MINIMAL, "mine.toml")
    acute, care = formula.components
    assert acute.curve_source == "warehouse"
    assert acute.need[0].weight == 0.2
    assert care.curve_source == "supplied"
    assert [(c.first_band, c.last_band, c.weight) for c in care.curve] == [
        (13, len(FIVE_YEAR.labels) - 1, 3.0),
        (0, 12, 1.0),
    ]
    assert formula.pace.max_below_target == 0.05
    assert formula.variables() == ["health_score"]


def test_the_same_text_gives_the_same_digest_and_a_change_another() -> None:
    a = parse_formula(MINIMAL, "a.toml")
    b = parse_formula(MINIMAL, "b.toml")
    c = parse_formula(MINIMAL.replace("0.2", "0.3"), "c.toml")
    assert a.digest == b.digest != c.digest


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("share = 0.4", "share = 0.5", "shares must sum to 1, got 1.1"),
        ("share = 0.4", "share = -0.4", "component[1] (care).share: expected a number > 0"),
        ("share = 0.4", 'share = "lots"', "(care).share: expected a number, got 'lots'"),
        ('id = "care"', 'id = "acute"', "duplicate id 'acute'"),
        ('"health_score"', '"wealth"', "need[0].variable: unknown variable 'wealth'"),
        ('"emergency_admissions"', '"surgery"', "services: unknown service 'surgery'"),
        ('version = "1"', 'version = "1"\nauthor = "x"', "formula: unknown key 'author'"),
        ('id = "care"', 'id = "care"\ncolour = 1', "component[1] (care): unknown key 'colour'"),
        ('"65+"', '"66+"', "cost_curve[0].ages: expected five-year boundaries"),
        ('"0-64"', '"0-69"', "cost_curve[1]: ages 0-69 (female) overlap an earlier entry"),
        ("weight = 3.0", "weight = -3.0", "cost_curve[0].weight: expected a number >= 0"),
        ("weight = 0.2", 'weight = "guess"', "need[0].weight: expected a number"),
        (
            '[[component]]\nid = "care"',
            '[[component]]\nid = "care"\ninequalities_weight = 2',
            "(care).inequalities_weight: expected a number >= 0 and <= 1",
        ),
        ("[formula]", "[formula\n", "not valid TOML"),
    ],
)
def test_faults_are_named_with_file_and_field(old: str, new: str, message: str) -> None:
    text = MINIMAL.replace(old, new, 1)
    assert text != MINIMAL
    with pytest.raises(AllocationError) as caught:
        parse_formula(text, "mine.toml")
    assert str(caught.value).startswith("mine.toml: ")
    assert message in str(caught.value)


def test_an_estimated_weight_needs_costed_services() -> None:
    text = MINIMAL.replace(
        'cost_curve = [{ ages = "65+", weight = 3.0 }, { ages = "0-64", weight = 1.0 }]',
        'cost_curve = "flat"\nneed = [{ variable = "income_score" }]',
    )
    with pytest.raises(AllocationError, match=r"need\[0\].weight: 'estimate' fits the weight"):
        parse_formula(text, "mine.toml")


def test_a_warehouse_curve_needs_services() -> None:
    text = MINIMAL.replace('services = ["emergency_admissions"]\n', "")
    with pytest.raises(AllocationError, match=r"\(acute\).services: a cost curve estimated"):
        parse_formula(text, "mine.toml")


def test_a_formula_without_components_is_refused() -> None:
    with pytest.raises(AllocationError, match="expected at least one"):
        parse_formula('[formula]\nid = "x"\n', "empty.toml")


def test_pace_of_change_settings_are_checked_where_they_are_given() -> None:
    formula = parse_formula(MINIMAL, "mine.toml")
    assert formula.with_pace(convergence=0.5).pace.convergence == 0.5
    assert formula.with_pace(min_growth=None) is formula
    # a flag's value is refused in the flag's name, not the formula file's
    with pytest.raises(AllocationError, match=r"^--convergence must be a number from 0 to 1"):
        formula.with_pace(convergence=1.5)
    bad = MINIMAL + "\n[pace_of_change]\nmin_growth = 3\n"
    with pytest.raises(AllocationError, match=r"min_growth: expected a number >= -0.5 and <= 1"):
        parse_formula(bad, "mine.toml")


def test_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AllocationError, match="formula file not found"):
        load_formula(tmp_path / "none.toml")


@pytest.mark.parametrize(
    ("ages", "bands"), [("0-4", (0, 0)), ("15-44", (3, 8)), ("85+", (17, 17)), ("all", (0, 17))]
)
def test_age_ranges_map_to_bands(ages: str, bands: tuple[int, int]) -> None:
    assert parse_ages(ages) == bands


def test_services_are_the_ones_the_warehouse_costs() -> None:
    from carepool.population.parameters import SERVICE_COSTS

    assert set(SERVICES) == set(SERVICE_COSTS)
