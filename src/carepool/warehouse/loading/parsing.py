"""Parsing one column to its declared Arrow type, reporting every cell that does not parse.

Vectorised with :mod:`pyarrow.compute`: a clean column costs one Arrow cast and a few
comparisons, and Python runs per value only to word the problems reported. What comes out is
a :class:`Parsed` column: the values, which cells hold one, and which parsed; the kind and
model checks then look only at cells that parsed, so no fault is reported twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from carepool.warehouse.loading.problems import Problems, show
from carepool.warehouse.schemas import Column, Kind

#: Kinds that are never negative unless the column declares its own minimum.
NEVER_NEGATIVE: Final = frozenset({Kind.MONEY, Kind.COUNT})

_INTEGER_SHAPE = r"^-?[0-9]+$"
_NUMBER_SHAPE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_DATE_SHAPE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_TRUE = ("true", "1")
_FALSE = ("false", "0")
#: Digits that surely fit in int64 (its limit has 19); longer integers are checked one by one.
_SAFE_DIGITS = 18


@dataclass
class Parsed:
    """One column parsed to its declared type."""

    values: Any  # Array of the declared type; null where missing or unparseable
    present: Any  # BooleanArray: the cell holds a value
    ok: Any  # BooleanArray: present and parsed; kind checks look only at these


def combine(array: Any) -> Any:
    """One contiguous array from a chunked one (an array is returned as it is)."""
    return array.combine_chunks() if isinstance(array, pa.ChunkedArray) else array


def bounds(column: Column) -> tuple[int, int]:
    """The integers a column accepts: its type's range, within its declared bounds, and not
    negative for money and counts."""
    info = np.iinfo(column.type.to_pandas_dtype())
    floor = 0 if column.kind in NEVER_NEGATIVE else int(info.min)
    low = max(int(info.min), floor if column.minimum is None else column.minimum)
    high = min(int(info.max), int(info.max) if column.maximum is None else column.maximum)
    return low, high


def out_of_range(column: Column) -> Callable[[Any], str]:
    """How to word an integer outside :func:`bounds`."""
    low, high = bounds(column)
    return lambda value: f"{value} is out of range (expected an integer from {low:,} to {high:,})"


def decode(raw: Any, name: str, problems: Problems) -> Any | None:
    """Bytes read from a CSV as UTF-8 text; bad cells are reported and the column skipped."""
    try:
        return raw.cast(pa.string())
    except pa.ArrowInvalid:
        bad = []
        for index, value in enumerate(raw.to_pylist()):  # only for a file that is not UTF-8
            try:
                if value is not None:
                    value.decode("utf-8")
            except UnicodeDecodeError:
                bad.append(index)
        problems.indices(
            np.asarray(bad, dtype=np.int64),
            name,
            lambda _i: "is not UTF-8 text; save the file as UTF-8 (in Excel: CSV UTF-8)",
        )
        return None


def _is_text(kind: Any) -> bool:
    if pa.types.is_dictionary(kind):
        return _is_text(kind.value_type)
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _as_text(raw: Any) -> Any:
    """Any column as trimmed text, for parsing and for messages."""
    kind = raw.type
    if pa.types.is_dictionary(kind):
        raw = raw.cast(kind.value_type)
        kind = raw.type
    if not pa.types.is_string(kind):
        raw = raw.cast(pa.string())
    return pc.utf8_trim_whitespace(raw)


def _safe_cast(raw: Any, target: pa.DataType) -> Any:
    """``raw`` cast to ``target`` if every value fits exactly, else None."""
    try:
        return raw.cast(target)  # a safe cast: raises if any value does not fit
    except pa.ArrowInvalid:
        return None


def parse(column: Column, raw: Any, problems: Problems) -> Parsed | None:
    """Parse one column to its declared type, reporting cells that do not parse.

    Text (every CSV column, and string Parquet columns) goes through :func:`_parse_text`. A
    typed Parquet column of the declared type, or one that converts exactly (a narrower
    integer, a date64, a timestamp at midnight), is taken as it is. Anything else -- a float
    column for an integer, say -- is turned into text and parsed like CSV, so whole-valued
    floats pass and ``12.5`` does not.
    """
    name = column.name
    target = column.type
    kind = raw.type
    if not _is_text(kind):
        typed = _parse_typed(column, raw, problems)
        if typed is not None:
            return typed
    try:
        text = _as_text(raw)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        problems.file(name, f"has Arrow type {kind}; expected {target}")
        return None
    return _parse_text(column, text, problems)


def _parse_typed(column: Column, raw: Any, problems: Problems) -> Parsed | None:
    """A typed (Parquet) column taken as it is where it converts exactly; None to parse it as
    text instead."""
    name = column.name
    target = column.type
    kind = raw.type
    if pa.types.is_floating(target) and (pa.types.is_floating(kind) or pa.types.is_integer(kind)):
        values = raw.cast(pa.float64()).cast(target)
        present = pc.is_valid(values)
        finite = pc.fill_null(pc.is_finite(values), False)
        problems.at(
            pc.and_not(present, finite),
            name,
            lambda i: f"{values[i].as_py()} is not a number (expected a finite number)",
        )
        return Parsed(pc.if_else(finite, values, None), present, finite)
    exact = kind == target or (pa.types.is_date(kind) and pa.types.is_date(target))
    if exact or (pa.types.is_integer(kind) and pa.types.is_integer(target)):
        values = _safe_cast(raw, target)
        if values is not None:
            present = pc.is_valid(values)
            return Parsed(values, present, present)
        # some value does not fit: parsed as text instead, which says which ones
    if pa.types.is_timestamp(kind) and pa.types.is_date(target) and kind.tz is None:
        present = pc.is_valid(raw)
        midnight = pc.fill_null(pc.equal(pc.floor_temporal(raw, unit="day"), raw), False)
        problems.at(
            pc.and_not(present, midnight),
            name,
            lambda i: f"{raw[i].as_py()} has a time of day (expected a date, YYYY-MM-DD)",
        )
        return Parsed(pc.if_else(midnight, raw.cast(target), None), present, midnight)
    return None


def _parse_text(column: Column, text: Any, problems: Problems) -> Parsed:
    text = combine(text)
    target = column.type
    present = pc.fill_null(pc.not_equal(text, ""), False)
    given = pc.if_else(present, text, None)
    try:  # the usual case: every value is good, and one Arrow cast proves it
        values = given.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass  # some value is bad: the value-by-value parse below names each one, by row
    else:
        if _cast_kept_the_rules(target, given, values):
            return Parsed(values, present, present)

    if pa.types.is_integer(target):
        return _parse_integers(column, text, given, present, problems)
    if pa.types.is_floating(target):
        return _parse_numbers(column, text, given, present, problems)
    if pa.types.is_boolean(target):
        return _parse_booleans(column, text, given, present, problems)
    if pa.types.is_date(target):
        return _parse_dates(column, text, given, present, problems)
    # strings never fail to parse, so the cast above cannot have failed for them
    raise AssertionError(f"no parser for {target}")  # pragma: no cover


def _cast_kept_the_rules(target: Any, given: Any, values: Any) -> bool:
    """Whether a successful Arrow cast accepted only what the rules allow.

    Arrow's casts are the rules almost exactly, with three extras refused here: hexadecimal
    integers (``0x10``), NaN and infinity, and the year 0 (which Python cannot represent).
    """
    if pa.types.is_integer(target):
        digits = pc.ascii_is_decimal(pc.utf8_ltrim(given, characters="-"))
        return pc.all(digits).as_py() is not False
    if pa.types.is_floating(target):
        return pc.all(pc.is_finite(values)).as_py() is not False
    if pa.types.is_date(target):
        return pc.all(pc.greater_equal(pc.year(values), 1)).as_py() is not False
    return True


def _parse_numbers(
    column: Column, text: Any, given: Any, present: Any, problems: Problems
) -> Parsed:
    """Numbers: decimal or scientific, never NaN or infinite."""
    shaped = pc.fill_null(pc.match_substring_regex(given, _NUMBER_SHAPE), False)
    values = pc.if_else(shaped, given, None).cast(pa.float64())
    finite = pc.fill_null(pc.is_finite(values), False)
    problems.at(
        pc.and_not(present, finite),
        column.name,
        lambda i: f"{show(text[i].as_py())} is not a number (expected e.g. 12.5)",
    )
    return Parsed(pc.if_else(finite, values, None).cast(column.type), present, finite)


def _parse_booleans(
    column: Column, text: Any, given: Any, present: Any, problems: Problems
) -> Parsed:
    """Booleans: ``true``, ``false``, ``1`` or ``0`` in any case."""
    lowered = pc.utf8_lower(given)
    is_true = pc.fill_null(pc.is_in(lowered, value_set=pa.array(_TRUE)), False)
    is_false = pc.fill_null(pc.is_in(lowered, value_set=pa.array(_FALSE)), False)
    ok = pc.or_(is_true, is_false)
    problems.at(
        pc.and_not(present, ok),
        column.name,
        lambda i: f"{show(text[i].as_py())} is not true or false (expected true, false, 1 or 0)",
    )
    return Parsed(pc.if_else(ok, is_true, None), present, ok)


def _parse_dates(column: Column, text: Any, given: Any, present: Any, problems: Problems) -> Parsed:
    """Dates: real ISO dates ``YYYY-MM-DD``."""
    shaped = pc.fill_null(pc.match_substring_regex(given, _DATE_SHAPE), False)
    stamps = pc.strptime(
        pc.if_else(shaped, given, None), format="%Y-%m-%d", unit="s", error_is_null=True
    )
    dates = stamps.cast(pa.date32())
    # strptime rolls 2019-02-30 over to 2019-03-02: a real date reads back as written
    written = pc.equal(dates.cast(pa.string()), given)
    ok = pc.fill_null(pc.and_(written, pc.greater_equal(pc.year(dates), 1)), False)
    problems.at(
        pc.and_not(present, ok),
        column.name,
        lambda i: f"{show(text[i].as_py())} is not a date (expected YYYY-MM-DD, e.g. 2024-04-01)",
    )
    return Parsed(pc.if_else(ok, dates, None).cast(column.type), present, ok)


def _parse_integers(
    column: Column, text: Any, given: Any, present: Any, problems: Problems
) -> Parsed:
    """Integers: digits with an optional minus, exactly (never through a float), in the
    type's range; the column's own bounds are checked with the other kinds' rules."""
    name = column.name
    target = column.type
    info = np.iinfo(target.to_pandas_dtype())
    shaped = pc.fill_null(pc.match_substring_regex(given, _INTEGER_SHAPE), False)
    digits = pc.utf8_length(pc.utf8_ltrim(given, characters="-0"))
    safe = pc.and_(shaped, pc.fill_null(pc.less_equal(digits, _SAFE_DIGITS), False))
    numbers: Any = pc.fill_null(pc.if_else(safe, given, None).cast(pa.int64()), 0).to_numpy()
    long = np.asarray(pc.and_not(shaped, safe).to_numpy(zero_copy_only=False), dtype=bool)
    in_range = np.asarray(safe.to_numpy(zero_copy_only=False), dtype=bool)
    in_range &= (numbers >= info.min) & (numbers <= info.max)
    # so long that int64 may not hold them: rare enough to check one by one, exactly
    for index in np.flatnonzero(long).tolist():
        value = int(text[index].as_py())
        if info.min <= value <= info.max:
            numbers = numbers.astype(object)
            numbers[index] = value
            in_range[index] = True
    shaped_np = np.asarray(shaped.to_numpy(zero_copy_only=False), dtype=bool)
    present_np = np.asarray(present.to_numpy(zero_copy_only=False), dtype=bool)
    expected = (
        "expected whole pence, e.g. 1250 for £12.50"
        if column.kind == Kind.MONEY
        else "expected an integer, e.g. 42"
    )
    problems.indices(
        np.flatnonzero(present_np & ~shaped_np),
        name,
        lambda i: f"{show(text[i].as_py())} is not an integer ({expected})",
    )
    wording = out_of_range(column)
    problems.indices(
        np.flatnonzero(shaped_np & ~in_range),
        name,
        lambda i: wording(text[i].as_py()),
    )
    values = pa.array(np.where(in_range, numbers, 0), type=target, mask=~in_range)
    return Parsed(values, present, pa.array(in_range))
