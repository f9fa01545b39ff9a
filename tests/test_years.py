"""Financial years: one set of rules for reading, checking and stepping them."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepool import years


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("2024-25", True),
        ("1999-00", True),
        ("2024-26", False),
        ("2024/25", False),
        ("2024-25 ", False),
        ("24-25", False),
        ("٢٠٢٤-٢٥", False),  # Arabic-Indic digits are not a year anyone typed on purpose
    ],
)
def test_a_financial_year_is_two_following_years(text: str, ok: bool) -> None:
    assert years.is_financial_year(text) is ok


@given(st.integers(min_value=1900, max_value=2200))
def test_years_step_forward_and_back(start: int) -> None:
    year = years.financial_year(start)
    assert years.is_financial_year(year)
    assert years.start_year(year) == start
    assert years.previous_year(years.next_year(year)) == year
    assert years.last_day(year) == date(start + 1, 3, 31)
    assert (years.last_day(year) - years.first_day(year)).days + 1 == years.days_in(year)


def test_a_year_holds_a_leap_day_in_its_second_calendar_year() -> None:
    assert years.days_in("2023-24") == 366
    assert years.days_in("2024-25") == 365
    assert years.days_in("2099-00") == 365  # 2100 is not a leap year


def test_months_run_april_to_march_in_quarters() -> None:
    months = years.months("2026-27")
    assert months[0] == "2026-04"
    assert months[-1] == "2027-03"
    assert len(months) == 12
    assert [years.quarter(m) for m in months[::3]] == [
        "2026-27 Q1",
        "2026-27 Q2",
        "2026-27 Q3",
        "2026-27 Q4",
    ]
    assert years.quarter("2027-03") == "2026-27 Q4"


@pytest.mark.parametrize(
    ("typed", "year"),
    [
        ("2024", "2024-25"),
        (" 2024-25 ", "2024-25"),
        ("2024/25", "2024-25"),
        ("2024-2025", "2024-25"),
        ("2024-27", None),
        ("abc", None),
    ],
)
def test_a_year_as_people_type_it(typed: str, year: str | None) -> None:
    assert years.read_typed_year(typed) == year


@pytest.mark.parametrize(
    ("typed", "written"),
    [("2024", True), ("2025-27", True), ("2025 / 2027", True), ("abc", False), ("2025-7", False)],
)
def test_text_written_as_years_whether_or_not_they_follow(typed: str, written: bool) -> None:
    assert years.written_as_year(typed) is written
