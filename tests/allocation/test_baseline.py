"""Reading a baseline CSV: all or nothing, every fault with its row and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from carepool.allocation import read_baseline
from carepool.errors import AllocationError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "baseline.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_pounds_become_pence(tmp_path: Path) -> None:
    path = _write(tmp_path, 'place,allocation\nE08000001,100\nE08000002,"1,234.56"\n')
    assert read_baseline(path) == {"E08000001": 10_000, "E08000002": 123_456}


def test_extra_columns_are_allowed_and_order_does_not_matter(tmp_path: Path) -> None:
    path = _write(tmp_path, "name,allocation,place\nBolton,5,E08000001\n")
    assert read_baseline(path) == {"E08000001": 500}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("place,amount\nE08000001,5\n", "lacks allocation; expected columns place,allocation"),
        ("place,allocation\nE08000001,five\n", "row 1: allocation: expected pounds, got 'five'"),
        ("place,allocation\nE08000001,-5\n", "row 1: allocation: expected pounds >= 0"),
        ("place,allocation\nE08000001,5.001\n", "row 1: allocation: more than two decimal"),
        ("place,allocation\nE08000001,5\nE08000001,6\n", "row 2: place: E08000001 appears twice"),
        ("place,allocation\n,5\n", "row 1: place: empty"),
        ("place,allocation\nE08000001,5,7\n", "row 1: 3 fields, expected 2"),
        ("place,allocation\n", "no rows"),
        ("", "empty"),
    ],
)
def test_faults_name_the_file_row_and_field(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(AllocationError) as caught:
        read_baseline(path)
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AllocationError, match="baseline file not found"):
        read_baseline(tmp_path / "none.csv")
