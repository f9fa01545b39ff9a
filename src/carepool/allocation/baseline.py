"""Last year's allocations, read from a CSV file with columns ``place`` and ``allocation``
(pounds; up to two decimal places). Every fault is reported with its row; nothing is used
unless the whole file is good, and it must name exactly the places being allocated to."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from pathlib import Path

import numpy as np
import numpy.typing as npt

from carepool.errors import AllocationError

COLUMNS = ("place", "allocation")
MAX_PROBLEMS = 10


def read_baseline(path: Path | str) -> dict[str, int]:
    """``place -> allocation in pence`` from ``path``."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise AllocationError(f"{file}: baseline file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AllocationError(f"{file}: cannot read the baseline: {exc}") from None
    rows = list(csv.reader(text.splitlines()))
    if not rows:
        raise AllocationError(f"{file}: empty; expected a header 'place,allocation'")
    header = [h.strip() for h in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise AllocationError(
            f"{file}: header {','.join(header)!r} lacks {', '.join(missing)}; expected "
            "columns place,allocation (allocation in pounds)"
        )
    at = {c: header.index(c) for c in COLUMNS}
    problems: list[str] = []
    values: dict[str, int] = {}
    for number, row in enumerate(rows[1:], start=1):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            problems.append(f"row {number}: {len(row)} fields, expected {len(header)}")
            continue
        place = row[at["place"]].strip()
        raw = row[at["allocation"]].strip().replace(",", "").lstrip("£")
        if not place:
            problems.append(f"row {number}: place: empty")
            continue
        try:
            amount = Decimal(raw)
        except InvalidOperation:
            problems.append(f"row {number}: allocation: expected pounds, got {raw!r}")
            continue
        if not amount.is_finite() or amount < 0:
            problems.append(f"row {number}: allocation: expected pounds >= 0, got {raw!r}")
            continue
        pence = amount * 100
        if pence != pence.to_integral_value():
            problems.append(f"row {number}: allocation: more than two decimal places: {raw!r}")
            continue
        if place in values:
            problems.append(f"row {number}: place: {place} appears twice")
            continue
        values[place] = int(pence)
    if problems:
        shown = "; ".join(problems[:MAX_PROBLEMS])
        more = f" (and {len(problems) - MAX_PROBLEMS} more)" if len(problems) > MAX_PROBLEMS else ""
        raise AllocationError(f"{file}: {shown}{more}; nothing was used")
    if not values:
        raise AllocationError(f"{file}: no rows; expected one per place")
    return values


def align_baseline(
    baseline: dict[str, int], places: Sequence[str], source: str
) -> npt.NDArray[np.int64]:
    """The baseline in the order of ``places``; every place present and no other."""
    missing = [p for p in places if p not in baseline]
    unknown = sorted(set(baseline) - set(places))
    faults = []
    if missing:
        faults.append(f"missing {len(missing)} place(s): {', '.join(missing[:5])}")
    if unknown:
        faults.append(f"names {len(unknown)} place(s) not at this level: {', '.join(unknown[:5])}")
    if faults:
        raise AllocationError(
            f"{source}: {'; '.join(faults)}; the baseline must have one row for each place "
            "being allocated to"
        )
    return np.array([baseline[p] for p in places], dtype=np.int64)
