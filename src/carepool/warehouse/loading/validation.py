"""Checking a whole file against a table's schema and the model: every problem, in file order.

:func:`validate_file` reads the file, checks its header, parses and checks each column
(:mod:`~carepool.warehouse.loading.parsing`, :mod:`~carepool.warehouse.loading.kinds`), then
the rules across a row (:mod:`~carepool.warehouse.loading.rows`) and the key
(:mod:`~carepool.warehouse.loading.keys`). It changes nothing; loading is
:func:`~carepool.warehouse.loading.load.load_file`.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from carepool.errors import LoadProblem
from carepool.warehouse.loading.files import read
from carepool.warehouse.loading.keys import check_keys
from carepool.warehouse.loading.kinds import check_column
from carepool.warehouse.loading.known import Known
from carepool.warehouse.loading.parsing import Parsed, combine, decode, parse
from carepool.warehouse.loading.problems import MAX_PROBLEMS, Problems
from carepool.warehouse.loading.rows import check_rows
from carepool.warehouse.schemas import TableSchema


def validate_file(
    schema: TableSchema,
    path: Path,
    *,
    known_lsoas: Set[str],
    known_lads: Set[str],
    known_payers: Set[str],
    max_problems: int = MAX_PROBLEMS,
    lad_of_lsoa: Mapping[str, str] | None = None,
    years: Set[str] | None = None,
    services: Set[str] | None = None,
    person_ids: pa.Array | None = None,
    data: bytes | None = None,
) -> tuple[pa.Table | None, list[LoadProblem], int]:
    """Check ``path`` against ``schema``, reporting every problem.

    ``known_*`` are the codes the file may use. The model checks run only when their facts
    are given: ``lad_of_lsoa`` (each LSOA's local authority), ``years`` (the model's financial
    years; also bounds dates), ``services`` (the costed services) and ``person_ids`` (the
    residents a person-year file may refer to). ``data`` are the file's bytes, if they have
    been read already (:func:`~carepool.warehouse.loading.files.read_bytes`): then those bytes
    are checked, and ``path`` only names the file.

    Returns ``(table, problems, total)``: the file conformed to the schema's Arrow types and
    column order if it has no problems (else None), the first ``max_problems`` problems in
    file order (file-level ones first), and how many problems there are in all.
    """
    problems = Problems(path.name, {})
    table = read(path, schema, problems, data)
    if table is None:
        return None, problems.first(max_problems), problems.total
    header = table.column_names
    problems.positions = {name: i for i, name in reversed(list(enumerate(header)))}
    _check_header(schema, header, problems)
    if table.num_rows == 0 and not problems.rows:
        problems.file(None, f"has no data rows; loading it would empty table {schema.name}")

    known = Known(
        lsoas=known_lsoas,
        lads=known_lads,
        payers=known_payers,
        lad_of_lsoa=lad_of_lsoa or {},
        years=years or set(),
        services=services or set(),
        person_ids=person_ids,
    )
    # hand over the columns one by one, so each is freed once checked (a big file is big)
    columns = {name: table.column(name) for name in schema.names if header.count(name) == 1}
    rows = table.num_rows
    del table
    parsed = _check_columns(schema, columns, known, problems)
    check_rows(parsed, known, problems)
    check_keys(schema, parsed, rows, problems)

    if problems.total:
        return None, problems.first(max_problems), problems.total
    conformed = pa.table(
        [combine(parsed[c.name].values).cast(c.type) for c in schema.columns],
        schema=schema.arrow,
    )
    return conformed, [], 0


def _check_header(schema: TableSchema, header: list[str], problems: Problems) -> None:
    """Columns may come in any order but must be exactly the table's, each named once."""
    expected = set(schema.names)
    for position, name in enumerate(header):
        if name == "":
            problems.file(None, f"column {position + 1} of the header has no name")
        elif header.count(name) > 1 and header.index(name) == position:
            problems.file(name, f"appears {header.count(name)} times in the header; expected once")
    for name in schema.names:
        if name not in header:
            problems.file(name, f"missing column; table {schema.name} needs it")
    spellings = {name.casefold(): name for name in schema.names}
    for position, name in enumerate(header):
        if name and name not in expected and header.index(name) == position:
            meant = spellings.get(name.strip().casefold())
            hint = f"did you mean {meant}?" if meant else f"see `carepool schema {schema.name}`"
            problems.file(
                name,
                f"unexpected column; table {schema.name} has no column of this name ({hint})",
            )


def _check_columns(
    schema: TableSchema, columns: dict[str, Any], known: Known, problems: Problems
) -> dict[str, Parsed]:
    """Parse and check each column the file has, in the schema's order; the ones that could
    be parsed at all, by name. ``columns`` is emptied as it goes, to free memory early."""
    parsed: dict[str, Parsed] = {}
    for column in schema.columns:
        name = column.name
        if name not in columns:
            continue
        raw = combine(columns.pop(name))
        if pa.types.is_binary(raw.type):
            raw = decode(raw, name, problems)
            if raw is None:
                continue
        result = parse(column, raw, problems)
        if result is None:
            continue
        if not column.nullable:
            missing = pc.invert(result.present)
            problems.at(missing, name, lambda _i: "is missing; a value is required")
        check_column(column, schema, result, known, problems)
        parsed[name] = result
    return parsed
