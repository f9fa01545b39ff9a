"""Rules across a row's columns, checked against the model the file joins.

A row's LSOA lies in its local authority; a person-year is of a resident; a death has a date
and only a death does; a payer code fits its payer kind. Only cells that passed their own
checks take part, so no fault is reported twice. Each rule runs where the table has its
columns; they run in the order of :data:`ROW_CHECKS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from carepool.geography import ICB_PREFIX
from carepool.warehouse.loading.known import SELF_PAYER, Known
from carepool.warehouse.loading.parsing import Parsed
from carepool.warehouse.loading.problems import Message, Problems, show

#: The parsed columns of the file, by name.
Columns = dict[str, Parsed]
RowCheck = Callable[[Columns, Known, Problems], None]


def lsoa_in_its_lad(parsed: Columns, known: Known, problems: Problems) -> None:
    """A row's LSOA lies in its local authority (a LAD the model does not know is reported by
    its own check, not here)."""
    lsoa, lad = parsed.get("lsoa21_code"), parsed.get("lad_code")
    if lsoa is None or lad is None or not known.lad_of_lsoa:
        return
    keys = known.array(set(known.lad_of_lsoa))
    expected = pc.take(
        pa.array([known.lad_of_lsoa[k] for k in keys.to_pylist()], pa.string()),
        pc.index_in(lsoa.values, value_set=keys),
    )
    wrong = pc.fill_null(
        pc.and_(pc.and_(lsoa.ok, lad.ok), pc.not_equal(expected, lad.values)), False
    )
    problems.at(
        pc.and_(wrong, pc.is_in(lad.values, value_set=known.array(known.lads))),
        "lad_code",
        lambda i: (
            f"{show(lad.values[i].as_py())} is not the local authority of "
            f"{lsoa.values[i].as_py()} (expected {expected[i].as_py()})"
        ),
    )


def person_is_a_resident(parsed: Columns, known: Known, problems: Problems) -> None:
    """A person id is one of the residents table's, where the warehouse has one."""
    person = parsed.get("person_id")
    if person is None or known.person_ids is None:
        return
    problems.at(
        pc.and_not(person.ok, pc.is_in(person.values, value_set=known.person_ids)),
        "person_id",
        lambda i: (
            f"{person.values[i].as_py()} is not a resident (expected a person_id of the "
            "residents table; load residents first)"
        ),
    )


def death_has_a_date(parsed: Columns, known: Known, problems: Problems) -> None:
    """A death has a date of death, and only a death does."""
    died, death_date = parsed.get("died"), parsed.get("death_date")
    if died is None or death_date is None:
        return
    is_dead = pc.fill_null(died.values, False)
    is_alive = pc.and_(died.ok, pc.invert(is_dead))
    problems.at(
        pc.and_not(pc.and_(died.ok, is_dead), death_date.present),
        "death_date",
        lambda _i: "is missing but died is true (expected the date of death)",
    )
    problems.at(
        pc.and_(is_alive, death_date.ok),
        "death_date",
        lambda _i: "is given but died is false (expected no date)",
    )


def payer_fits_its_kind(parsed: Columns, known: Known, problems: Problems) -> None:
    """A payer code fits its payer kind: ``self`` is ``SELF``, ``council`` a council of the
    model, ``nhs`` one of its ICBs (an unknown code is reported by its own check)."""
    kind, code = parsed.get("payer_kind"), parsed.get("payer_code")
    if kind is None or code is None:
        return
    icbs = {c for c in known.payers if c.startswith(ICB_PREFIX)}
    rules = {
        "self": ({SELF_PAYER}, SELF_PAYER),
        "council": (known.lads, "a council code"),
        "nhs": (icbs, "an ICB code"),
    }
    both = pc.and_(kind.ok, code.ok)
    known_code = pc.fill_null(pc.is_in(code.values, value_set=known.array(known.payers)), False)
    for payer_kind, (codes, expected) in rules.items():
        of_kind = pc.and_(both, pc.fill_null(pc.equal(kind.values, payer_kind), False))
        fits = pc.fill_null(pc.is_in(code.values, value_set=known.array(codes)), False)
        problems.at(
            pc.and_not(pc.and_(of_kind, known_code), fits),
            "payer_code",
            _wrong_payer(code.values, payer_kind, expected),
        )


def _wrong_payer(codes: Any, payer_kind: str, expected: str) -> Message:
    return lambda i: (
        f"{show(codes[i].as_py())} cannot pay for payer_kind {payer_kind!r} (expected {expected})"
    )


#: The rules across a row's columns, in the order their problems are gathered.
ROW_CHECKS: tuple[RowCheck, ...] = (
    lsoa_in_its_lad,
    person_is_a_resident,
    death_has_a_date,
    payer_fits_its_kind,
)


def check_rows(parsed: Columns, known: Known, problems: Problems) -> None:
    """Every rule across a row's columns, over every row."""
    for check in ROW_CHECKS:
        check(parsed, known, problems)
