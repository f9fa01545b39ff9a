"""``carepool charge``: the machine-readable answer, every policy side by side, and bad input
refused with the field named."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from carepool.cli import app

runner = CliRunner()
HOME = [
    "charge",
    "--setting",
    "care-home",
    "--cost",
    "1,000",
    "--savings",
    "20000",
    "--income",
    "200",
    "--age",
    "80",
]


def test_json_carries_the_contract() -> None:
    result = runner.invoke(app, [*HOME, "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["person_pays_pence"] == 191_20
    assert answer["council_pays_pence"] == 808_80
    assert answer["tariff_income_pence"] == 23_00
    assert answer["weeks_until_council_support"] == 0
    assert answer["rule_version"] == "means-test/2026-27"
    assert len(answer["years"]) == 10


def test_a_self_funder_has_no_week_of_council_support() -> None:
    result = runner.invoke(
        app,
        [
            "charge",
            "--setting",
            "care-home",
            "--cost",
            "900",
            "--savings",
            "2,000,000",
            "--years",
            "2",
            "--json",
        ],
    )
    assert json.loads(result.stdout)["weeks_until_council_support"] is None


def test_compare_prices_every_policy() -> None:
    result = runner.invoke(app, [*HOME, "--property", "250000", "--compare", "--json"])
    assert result.exit_code == 0, result.output
    answers = json.loads(result.stdout)
    assert [a["rule_version"] for a in answers] == [
        "means-test/2026-27",
        "raised-limits/2026-27",
        "cap/2026-27",
        "free-personal-care/2026-27",
    ]
    totals = [sum(year["person_pays_pence"] for year in a["years"]) for a in answers]
    assert totals[2] <= totals[1]
    assert totals[3] <= totals[0]
    table = runner.invoke(app, [*HOME, "--compare"])
    assert "free-personal-care" in table.stdout


def test_the_table_shows_the_years() -> None:
    result = runner.invoke(app, [*HOME, "--property", "250000", "--years", "3"])
    assert result.exit_code == 0, result.output
    assert "Year by year" in result.stdout
    assert "£191.20" in result.stdout


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        (["--savings", "-5"], "savings"),
        (["--income", "-1"], "income"),
        (["--savings", "1e6"], "savings"),
        (["--age", "12"], "age"),
        (["--years", "0"], "years"),
        (["--year", "2026"], "year"),
        (["--disregarded-income", "500"], "disregarded income"),
        (["--cost", "1.005"], "cost"),
        (["--savings", "99999999999999"], "savings"),
        (["--year", "1900-01"], "year"),
    ],
)
def test_bad_input_is_refused_naming_the_field(extra: list[str], field: str) -> None:
    result = runner.invoke(app, [*HOME, *extra])
    assert result.exit_code == 2
    assert f"{field}:" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        (["--cost", "1.005"], "has a fraction of a penny"),
        (["--savings", "99999999999999"], "is larger than any figure a person has"),
        (["--year", "1900-01"], "expected 2015-16 to 2050-51"),
    ],
)
def test_the_refusal_says_what_was_wrong(extra: list[str], reason: str) -> None:
    result = runner.invoke(app, [*HOME, *extra])
    assert result.exit_code == 2
    assert reason in " ".join(result.stderr.split())
