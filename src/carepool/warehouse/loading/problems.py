"""Problems found in a file: gathered as index arrays per check, worded only for the first.

A check over a column finds its bad rows as one array; only the problems that will be shown
(the first ones in file order) are ever located by data row and worded, so a file with a
million bad cells costs no more than one with fifty.
"""

from __future__ import annotations

from collections.abc import Callable, Set
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc

from carepool.errors import LoadProblem

#: Problems listed in a rejection; every problem is counted.
MAX_PROBLEMS: Final = 50
#: Codes listed in full in a message when there are at most this many; else only counted.
_LIST_AT_MOST = 12

Indices = npt.NDArray[np.int64]
#: How to word the problem at a table row index (called only for problems that are shown).
Message = Callable[[int], str]


@dataclass
class Found:
    """The rows one check found bad in one column, and how to word each."""

    indices: Indices  # table row indices, ascending
    column: str
    position: int  # the column's place in the file, to order problems within a row
    message: Message


@dataclass
class Problems:
    """Every problem of one file, in the order the checks found them."""

    source: str
    positions: dict[str, int]
    file_level: list[LoadProblem] = field(default_factory=list)
    #: problems already located by data row (a CSV row with the wrong number of fields)
    rows: list[LoadProblem] = field(default_factory=list)
    found: list[Found] = field(default_factory=list)
    #: data rows (1-based) the CSV reader skipped, so table index -> data row needs shifting
    skipped: Indices = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    def __post_init__(self) -> None:
        self.source = printable(self.source)

    def file(self, column: str | None, message: str) -> None:
        """A problem with the whole file, or with a column of its header (a header name is
        the file's, so it is shown escaped and shortened)."""
        shown = None if column is None else _shorten(printable(column))
        self.file_level.append(LoadProblem(self.source, None, shown, message))

    def at(self, mask: Any, column: str, message: Message) -> None:
        """Report every row where the boolean Arrow ``mask`` is true (nulls count as false)."""
        if pc.any(mask).as_py():
            indices = np.asarray(pc.indices_nonzero(mask).to_numpy(), dtype=np.int64)
            self.indices(indices, column, message)

    def indices(self, indices: Indices, column: str, message: Message) -> None:
        if indices.size:
            position = self.positions.get(column.split(",")[0], len(self.positions))
            self.found.append(Found(indices, column, position, message))

    @property
    def total(self) -> int:
        return (
            len(self.file_level)
            + len(self.rows)
            + sum(int(found.indices.size) for found in self.found)
        )

    def data_row(self, index: int) -> int:
        """The 1-based data row of table row ``index``, counting rows the reader skipped."""
        row = index + 1
        shift = 0
        while True:
            moved = int(np.searchsorted(self.skipped, row + shift, side="right"))
            if moved == shift:
                return row + shift
            shift = moved

    def first(self, limit: int) -> list[LoadProblem]:
        """The first ``limit`` problems: file-level ones, then by row, then by column.

        Each check keeps every bad row, but at most ``limit`` of each can be among the first
        ``limit`` overall, so only those are located and worded.
        """
        # (row, column position, check order, how to word it)
        candidates: list[tuple[int, int, int, Callable[[], LoadProblem]]] = [
            (problem.row or 0, -1, k, _constant(problem)) for k, problem in enumerate(self.rows)
        ]
        for k, found in enumerate(self.found, start=len(self.rows)):
            for index in found.indices[:limit].tolist():
                row = self.data_row(index)
                candidates.append((row, found.position, k, self._worder(found, row, index)))
        candidates.sort(key=lambda c: c[:3])
        problems = list(self.file_level[:limit])
        problems += [word() for *_, word in candidates[: max(0, limit - len(problems))]]
        return problems

    def _worder(self, found: Found, row: int, index: int) -> Callable[[], LoadProblem]:
        return lambda: LoadProblem(self.source, row, found.column, found.message(index))


def _constant(problem: LoadProblem) -> Callable[[], LoadProblem]:
    return lambda: problem


def show(value: Any) -> str:
    """A cell's value as a message shows it: text quoted (and shortened), numbers bare.

    ``repr`` escapes every character that is not printable (control characters, bidi
    overrides), so a cell cannot move the cursor or recolour a terminal."""
    if isinstance(value, str):
        return repr(_shorten(value))
    return printable(str(value))


def _shorten(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


def printable(text: str) -> str:
    """``text`` with every character that is not printable escaped (``\\x1b``, ``\\u202e``),
    and backslashes doubled so an escape cannot be forged: safe to print to a terminal."""
    if text.isprintable() and "\\" not in text:
        return text
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char.isprintable():
            out.append(char)
        else:
            code = ord(char)
            out.append(
                f"\\x{code:02x}"
                if code < 0x100
                else f"\\u{code:04x}"
                if code < 0x10000
                else f"\\U{code:08x}"
            )
    return "".join(out)


def listed(codes: Set[str], what: str, where: str = "the lsoa table") -> str:
    """The codes a value should have been: all of them when few, else how many and where."""
    if len(codes) <= _LIST_AT_MOST:
        return f"one of: {', '.join(sorted(codes))}"
    return f"one of the {len(codes):,} {what} in {where}"
