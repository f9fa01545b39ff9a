"""What each kind of column must hold: one small check per :class:`Kind`, in one registry.

Every check has the same shape, ``check(cells, known, problems)``: it looks only at the
cells of one column that parsed (:class:`Cells`), compares them with what the model knows
(:class:`Known`) and reports the bad ones. :data:`KIND_CHECKS` maps every kind to its check;
:func:`check_column` runs the column's kind check, then the bounds every integer column has,
then any check its name adds. Adding a kind is a function and a line in the registry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Set
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from carepool.geography import LSOA_SHAPE
from carepool.warehouse.loading.known import SELF_PAYER, Known
from carepool.warehouse.loading.nhs_numbers import NHS_NUMBER_SHAPE, PSEUDONYM, valid_nhs_numbers
from carepool.warehouse.loading.parsing import NEVER_NEGATIVE, Parsed, bounds, out_of_range
from carepool.warehouse.loading.problems import Problems, listed, show
from carepool.warehouse.schemas import Column, Kind, TableSchema
from carepool.years import is_financial_year


@dataclass(frozen=True)
class Cells:
    """One parsed column as a check sees it: its declaration, its table and its values."""

    column: Column
    schema: TableSchema
    parsed: Parsed

    @property
    def name(self) -> str:
        return self.column.name

    @property
    def values(self) -> Any:
        return self.parsed.values

    @property
    def ok(self) -> Any:
        """The cells that hold a value that parsed: the only ones a check looks at."""
        return self.parsed.ok

    def show(self, i: int) -> str:
        """The value at row index ``i`` as a message shows it."""
        return show(self.values[i].as_py())

    def matches(self, pattern: str) -> Any:
        """Which values match the regular expression ``pattern`` (missing ones do not)."""
        return pc.fill_null(pc.match_substring_regex(self.values, pattern), False)

    def within(self, codes: Set[str]) -> Any:
        """Which values are among ``codes`` (missing ones are not)."""
        return pc.fill_null(
            pc.is_in(self.values, value_set=pa.array(sorted(codes), pa.string())), False
        )

    def negative(self) -> Any:
        """Which parsed values are below zero."""
        return pc.and_(self.ok, pc.fill_null(pc.less(self.values, 0), False))


#: The contract of a kind's check.
KindCheck = Callable[[Cells, Known, Problems], None]


def plain(cells: Cells, known: Known, problems: Problems) -> None:
    """A plain column: its type and bounds say all there is."""


def lsoa(cells: Cells, known: Known, problems: Problems) -> None:
    """A 2021 LSOA code: ``E01`` and 6 digits, and one of the model's geography."""
    shaped = cells.matches(LSOA_SHAPE)
    problems.at(
        pc.and_not(cells.ok, shaped),
        cells.name,
        lambda i: (
            f"{cells.show(i)} is not an LSOA code (expected E01 and 6 digits, e.g. E01005123)"
        ),
    )
    problems.at(
        pc.and_not(pc.and_(cells.ok, shaped), cells.within(known.lsoas)),
        cells.name,
        lambda i: (
            f"{cells.show(i)} is not an LSOA of this model's geography "
            f"(expected {listed(known.lsoas, 'LSOA codes')})"
        ),
    )


def lad(cells: Cells, known: Known, problems: Problems) -> None:
    """A local authority of the model."""
    problems.at(
        pc.and_not(cells.ok, cells.within(known.lads)),
        cells.name,
        lambda i: (
            f"{cells.show(i)} is not a local authority of this model "
            f"(expected {listed(known.lads, 'local authority codes')})"
        ),
    )


def payer(cells: Cells, known: Known, problems: Problems) -> None:
    """A paying partner of the model: one of its ICBs or councils, or ``SELF``."""
    partners = listed(known.payers - {SELF_PAYER}, "ICB and council codes")
    problems.at(
        pc.and_not(cells.ok, cells.within(known.payers)),
        cells.name,
        lambda i: (
            f"{cells.show(i)} is not a paying partner of this model "
            f"(expected {SELF_PAYER}, or {partners})"
        ),
    )


def nhs_number(cells: Cells, known: Known, problems: Problems) -> None:
    """Ten digits with a valid check digit, or a pseudonym where the table allows one."""
    pseudonymised = cells.schema.pseudonymised_ids
    ten = cells.matches(NHS_NUMBER_SHAPE)
    pseudonym = cells.matches(PSEUDONYM) if pseudonymised else pa.scalar(False)
    expected = "10 digits, no spaces" + (
        ", or a pseudonym: P: and 16 to 64 lowercase hex digits" if pseudonymised else ""
    )
    problems.at(
        pc.and_not(pc.and_not(cells.ok, ten), pseudonym),
        cells.name,
        lambda i: f"{cells.show(i)} is not an NHS number (expected {expected})",
    )
    candidates = pc.and_(cells.ok, ten)
    if pc.any(candidates).as_py():
        rows = np.asarray(pc.indices_nonzero(candidates).to_numpy(), dtype=np.int64)
        valid = valid_nhs_numbers(pc.filter(cells.values, candidates))
        problems.indices(
            rows[~valid],
            cells.name,
            lambda i: (
                f"{cells.show(i)} is not a valid NHS number: its check digit (modulus 11) is wrong"
            ),
        )


def _never_negative(what: str) -> KindCheck:
    """The check of a kind that is never negative (unless the column sets its own minimum)."""

    def check(cells: Cells, known: Known, problems: Problems) -> None:
        if not pa.types.is_integer(cells.column.type) or cells.column.minimum is not None:
            return
        problems.at(
            cells.negative(),
            cells.name,
            lambda i: f"{cells.show(i)} is negative (expected {what}, 0 or more)",
        )

    check.__doc__ = f"Never negative: {what}, 0 or more."
    return check


#: Integer pence, never negative.
money = _never_negative("pence")
#: A count or quantity, never negative.
count = _never_negative("a count")


def category(cells: Cells, known: Known, problems: Problems) -> None:
    """One of the column's declared categories."""
    allowed = ", ".join(cells.column.categories)
    problems.at(
        pc.and_not(cells.ok, cells.within(set(cells.column.categories))),
        cells.name,
        lambda i: f"{cells.show(i)} is not one of: {allowed}",
    )


def date(cells: Cells, known: Known, problems: Problems) -> None:
    """A date no later than the end of the model's last year, where the model's years are
    known (that the value is a real date is the parser's check)."""
    end = known.model_end
    if end is None:
        return
    values = cells.values
    problems.at(
        pc.and_(cells.ok, pc.fill_null(pc.greater(values, pa.scalar(end, pa.date32())), False)),
        cells.name,
        lambda i: f"{values[i].as_py()} is after the model's last year, which ends {end}",
    )


def year(cells: Cells, known: Known, problems: Problems) -> None:
    """A financial year ``YYYY-YY`` with consecutive years, and one of the model's."""
    # few distinct years in any real file: check each distinct value once, exactly
    distinct = pc.unique(pc.filter(cells.values, cells.ok)).to_pylist()
    shaped = {v for v in distinct if is_financial_year(v)}
    problems.at(
        pc.and_not(cells.ok, cells.within(shaped)),
        cells.name,
        lambda i: (
            f"{cells.show(i)} is not a financial year "
            "(expected YYYY-YY with consecutive years, e.g. 2024-25)"
        ),
    )
    if known.years:
        years = listed(known.years, "years", "the manifest")
        problems.at(
            pc.and_not(cells.within(shaped), cells.within(known.years)),
            cells.name,
            lambda i: f"{cells.show(i)} is not a year of this model (expected {years})",
        )


#: Every kind of column, and what its values must be.
KIND_CHECKS: Mapping[Kind, KindCheck] = {
    Kind.PLAIN: plain,
    Kind.LSOA: lsoa,
    Kind.LAD: lad,
    Kind.PAYER: payer,
    Kind.NHS_NUMBER: nhs_number,
    Kind.MONEY: money,
    Kind.COUNT: count,
    Kind.CATEGORY: category,
    Kind.DATE: date,
    Kind.YEAR: year,
}


def within_bounds(cells: Cells, problems: Problems) -> None:
    """An integer within its type's range and the column's declared bounds. A negative value
    of a kind that is never negative has been reported by its kind's check, so not here."""
    column = cells.column
    low, high = bounds(column)
    candidates = cells.ok
    if column.kind in NEVER_NEGATIVE and column.minimum is None:
        candidates = pc.and_not(cells.ok, cells.negative())
    values = cells.values
    outside = pc.and_(
        candidates,
        pc.fill_null(pc.or_(pc.less(values, low), pc.greater(values, high)), False),
    )
    wording = out_of_range(column)
    problems.at(outside, cells.name, lambda i: wording(values[i].as_py()))


def costed_service(cells: Cells, known: Known, problems: Problems) -> None:
    """A service of the model's services table, where it has one."""
    if not known.services:
        return
    services = listed(known.services, "services", "the services table")
    problems.at(
        pc.and_not(cells.ok, cells.within(known.services)),
        cells.name,
        lambda i: f"{cells.show(i)} is not a costed service (expected {services})",
    )


#: Checks a column gets from its name, whatever its kind.
NAME_CHECKS: Mapping[str, KindCheck] = {"service": costed_service}


def check_column(
    column: Column, schema: TableSchema, parsed: Parsed, known: Known, problems: Problems
) -> None:
    """The checks a column's kind, bounds and name add to its type, on the values that parsed."""
    cells = Cells(column, schema, parsed)
    KIND_CHECKS[column.kind](cells, known, problems)
    if pa.types.is_integer(column.type):
        within_bounds(cells, problems)
    by_name = NAME_CHECKS.get(column.name)
    if by_name is not None:
        by_name(cells, known, problems)
