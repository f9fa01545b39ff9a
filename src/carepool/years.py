"""Financial years, written ``2026-27``: the one home of how they are read, written and counted.

The UK public sector's financial year runs from 1 April to 31 March; carepool names it by its
two calendar years, the second shortened to two digits (``2024-25``, ``1999-00``). Months of a
year are ``YYYY-MM``, April first. Every package that reads, checks or steps a financial year
uses these functions, so the rule is written once.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

#: ``YYYY-YY`` in ASCII digits (a non-ASCII digit is not a year anyone typed on purpose).
FINANCIAL_YEAR: Final = re.compile(r"([0-9]{4})-([0-9]{2})")
#: How a person may type a year: ``2024``, ``2024-25``, ``2024/25`` or ``2024-2025``.
_TYPED_YEAR: Final = re.compile(r"(\d{4})(?:\s*[-/]\s*(\d{2}|\d{4}))?")


def financial_year(start: int) -> str:
    """The financial year that starts in April of ``start``: ``2024`` → ``2024-25``."""
    return f"{start}-{(start + 1) % 100:02d}"


def is_financial_year(text: str) -> bool:
    """Whether ``text`` is a financial year written ``YYYY-YY`` with consecutive years."""
    match = FINANCIAL_YEAR.fullmatch(text)
    return match is not None and (int(match.group(1)) + 1) % 100 == int(match.group(2))


def start_year(year: str) -> int:
    """The calendar year in which ``year`` starts: ``2024-25`` → 2024."""
    return int(year[:4])


def next_year(year: str) -> str:
    """``2025-26`` → ``2026-27``."""
    return financial_year(start_year(year) + 1)


def previous_year(year: str) -> str:
    """``2025-26`` → ``2024-25``."""
    return financial_year(start_year(year) - 1)


def first_day(year: str) -> date:
    """1 April of the year's first calendar year."""
    return date(start_year(year), 4, 1)


def last_day(year: str) -> date:
    """31 March of the year's second calendar year."""
    return date(start_year(year) + 1, 3, 31)


def days_in(year: str) -> int:
    """Days from 1 April to 31 March: 366 when the year holds a 29 February."""
    return (first_day(next_year(year)) - first_day(year)).days


def months(year: str) -> tuple[str, ...]:
    """The twelve months of ``year``, April to March, as ``YYYY-MM``."""
    start = start_year(year)
    return tuple(f"{start + (m > 12)}-{(m - 1) % 12 + 1:02d}" for m in range(4, 16))


def quarter(month: str) -> str:
    """The financial quarter of a month ``YYYY-MM``: ``2026-05`` is ``2026-27 Q1``."""
    calendar_year, number = int(month[:4]), int(month[5:7])
    start = calendar_year if number >= 4 else calendar_year - 1
    return f"{financial_year(start)} Q{(number - 4) % 12 // 3 + 1}"


def written_as_year(text: str) -> bool:
    """Whether ``text`` is written as a year or two (``2024``, ``2024-25``, ``2025/2027``),
    whether or not the two follow: what tells a year with no data from text that is no year."""
    return _TYPED_YEAR.fullmatch(text.strip()) is not None


def read_typed_year(text: str) -> str | None:
    """A year as a person types it (``2024``, ``2024-25``, ``2024/25``, ``2024-2025``) as
    ``2024-25``; None when the text is not a year, or its two years do not follow."""
    match = _TYPED_YEAR.fullmatch(text.strip())
    if match is None:
        return None
    start, end = int(match.group(1)), match.group(2)
    if end is not None and int(end) not in (start + 1, (start + 1) % 100):
        return None
    return financial_year(start)


__all__ = [
    "FINANCIAL_YEAR",
    "days_in",
    "financial_year",
    "first_day",
    "is_financial_year",
    "last_day",
    "months",
    "next_year",
    "previous_year",
    "quarter",
    "read_typed_year",
    "start_year",
    "written_as_year",
]
