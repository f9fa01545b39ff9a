"""Loading a partner's extract into the warehouse: check everything, then load all or nothing.

A partner (an NHS trust, a council) sends a table as CSV or Parquet. Every cell is checked
against the table's declared schema (:mod:`carepool.warehouse.schemas`) and against the model
it joins, and every fault is collected as a :class:`~carepool.errors.LoadProblem` located by
file, row and column, saying what was expected -- so the partner fixes the whole file in one
round rather than one fault per attempt. Only a file with no problems replaces the table;
otherwise :class:`~carepool.errors.LoadRejected` carries the first problems in file order and
the total, and the warehouse is untouched. The replacement is one atomic step: the file's rows
are written as a new version of the table, and one rename of the manifest names that version
and records the load (:mod:`carepool.warehouse.store`), so a crash leaves the old table with
the old manifest or the new table with the new one, never one without the other.

Rules a partner can rely on (``carepool schema <table>`` prints them per column):

- **Files**: ``.csv`` (UTF-8, a header row, comma-separated; rows are numbered from 1 for the
  first data row) or ``.parquet`` (row = 1-based row index). Columns may come in any order
  but must be exactly the table's columns; a file with no data rows is refused, since loading
  it would empty the table.
- **What is read**: only a regular file -- a symbolic link, FIFO, device, socket or directory
  is refused before it is opened (links are never followed) -- and it is read once: the bytes
  hashed for the manifest are the bytes checked and loaded.
- **Limits**, each enforced before the work it bounds (:mod:`.files`): a file of at most 2 GiB;
  at most 1,000 columns; a CSV header line of at most 64 KiB; at most 50 million data rows
  (CSV lines are counted before parsing, Parquet rows read from its metadata); a Parquet file
  expanding to at most 4 GiB uncompressed (from its metadata before any data is read, and
  again as it is decoded). A file over a limit is refused with one problem naming the limit.
- **Messages** quote only the cell values (or header names) a problem is about, never the
  rest of the file; control and other unprintable characters in them and in the file's name
  are escaped (``\\x1b``), so nothing printed can drive a terminal.
- **Empty values**: leading and trailing spaces are ignored; an empty CSV cell or a Parquet
  null is a missing value, allowed only in nullable columns.
- **Types**: integers are ASCII digits with an optional minus sign, within the column's
  bounds (``12.0``, ``+12``, ``1e3`` and ``0x10`` are refused in CSV, so a float export cannot
  slip through; a Parquet float column -- pandas' way of storing integers with gaps -- passes
  where every value is whole); booleans are ``true``, ``false``, ``1`` or ``0`` in any case;
  dates are real ISO dates ``YYYY-MM-DD`` (a Parquet timestamp passes at midnight); numbers
  are decimal or scientific, never NaN or infinite. Parquet columns of the declared type are
  taken as they are.
- **Kinds**: LSOA codes are ``E01`` and 6 digits and in the model's geography; local
  authority and payer codes are the model's own (payers: its ICBs, its councils, ``SELF``);
  money is integer pence, never negative; counts are never negative; categories come from
  the declared list; financial years are ``YYYY-YY`` with consecutive years (``2024-25``);
  the key columns identify one row.
- **NHS numbers** are 10 digits whose last is the modulus-11 check digit of the first nine
  (weights 10 down to 2; ``11 - sum % 11``, where 11 means 0 and 10 means no valid number).
  A table declared ``pseudonymised_ids`` may instead hold a **pseudonym**: ``P:`` and 16 to
  64 lowercase hexadecimal characters, e.g. ``"P:" + hmac_sha256(key, nhs_number).hexdigest()``.
  The prefix keeps a pseudonym from ever being mistaken for a real number, and lowercase only
  keeps one person from having two spellings of the same id.
- **The model**, where the warehouse knows it: a row's LSOA lies in its local authority; a
  death has a date and only a death does; years are the model's years and no date is after
  the model's last year; a payer code fits its payer kind (``self`` is ``SELF``, ``council`` a
  council, ``nhs`` an ICB); services are the costed ones.
- **One writer at a time**: a load holds the warehouse's write lock from its first read to its
  commit, so what it checks against is what it commits over; a second load meanwhile is
  refused with a message saying so, not queued.
- **People**: every ``person_id`` of a ``person_year`` file is one of the ``residents``
  table's, and a ``person_year`` file is refused outright while there is no residents table
  to check it against: no row is left an orphan.

Checks are vectorised per column with :mod:`pyarrow.compute` (a clean column costs one Arrow
cast and a few comparisons: a 3-million-row extract is checked in seconds), and Python runs
per value only to word the problems reported.

The modules, in the order a file meets them: :mod:`.files` (reading CSV and Parquet),
:mod:`.parsing` (each column to its type), :mod:`.kinds` (one check per column kind, in a
registry), :mod:`.rows` and :mod:`.keys` (rules across a row, and the key, against the model
in :mod:`.known`), :mod:`.validation` (the whole file, every problem) and :mod:`.load` (the
table replaced and the load recorded). :mod:`.problems` gathers and words what they find.
"""

from carepool.warehouse.loading.kinds import KIND_CHECKS, Cells, KindCheck
from carepool.warehouse.loading.known import SELF_PAYER, KnownCodes
from carepool.warehouse.loading.load import LoadResult, load_file, loadable_schema
from carepool.warehouse.loading.nhs_numbers import nhs_number_check_digit, valid_nhs_numbers
from carepool.warehouse.loading.problems import MAX_PROBLEMS, printable
from carepool.warehouse.loading.validation import validate_file

__all__ = [
    "KIND_CHECKS",
    "MAX_PROBLEMS",
    "SELF_PAYER",
    "Cells",
    "KindCheck",
    "KnownCodes",
    "LoadResult",
    "load_file",
    "loadable_schema",
    "nhs_number_check_digit",
    "printable",
    "valid_nhs_numbers",
    "validate_file",
]
