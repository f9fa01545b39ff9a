"""The registry of column-kind checks: every kind has one, and the loop only looks them up."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from carepool.errors import LoadProblem
from carepool.warehouse import Kind
from carepool.warehouse.loading import KIND_CHECKS, Cells, validate_file
from carepool.warehouse.loading.known import Known
from carepool.warehouse.loading.problems import Problems
from carepool.warehouse.schemas import Column, TableSchema


def test_every_kind_has_a_check() -> None:
    assert set(KIND_CHECKS) == set(Kind)


def test_a_kind_check_is_found_through_the_registry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A column's kind decides its check by lookup alone, so a new check needs no new branch."""

    def even(cells: Cells, known: Known, problems: Problems) -> None:
        odd = pc.and_(cells.ok, pc.equal(pc.bit_wise_and(cells.values, 1), 1))
        problems.at(odd, cells.name, lambda i: f"{cells.show(i)} is odd (expected an even number)")

    monkeypatch.setitem(KIND_CHECKS, Kind.PLAIN, even)
    schema = TableSchema("pairs", "one column", (Column("n", pa.int32()),), key=("n",))
    path = tmp_path / "pairs.csv"
    path.write_text("n\n2\n3\n4\n")
    table, problems, total = validate_file(
        schema, path, known_lsoas=set(), known_lads=set(), known_payers=set()
    )
    assert table is None
    assert total == 1
    assert problems == [LoadProblem("pairs.csv", 2, "n", "3 is odd (expected an even number)")]
